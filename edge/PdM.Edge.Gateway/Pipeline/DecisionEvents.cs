using PdM.Contracts.Decisions;
using PdM.Contracts.Models;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// What one decision causes, as <see cref="DecisionStage"/> hands it on (at least one is set): a prediction when the
/// asset enters or escalates an alert, and the asset's periodic assessment when it is due. A struct in a list the
/// pipeline reuses: handing events on allocates nothing beyond the events themselves.
/// </summary>
public readonly record struct DecisionEvents(FailurePredicted? Prediction, AssetHealthAssessed? Assessment);
