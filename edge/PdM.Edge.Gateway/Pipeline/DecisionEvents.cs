using System.Diagnostics;
using PdM.Contracts.Decisions;
using PdM.Contracts.Models;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// What one decision causes, as <see cref="DecisionStage"/> hands it on (at least one is set): a prediction when the
/// asset enters or escalates an alert, and the asset's periodic assessment when it is due. <see cref="Window"/> is the
/// index of the decided window in the list the stage was given, so the pipeline journals each message's events with
/// that message. <see cref="Trace"/> is the decision's span (default when not recorded): the events are journaled with
/// it. A struct in a list the pipeline reuses: handing events on allocates nothing beyond the events themselves.
/// </summary>
public readonly record struct DecisionEvents(int Window, FailurePredicted? Prediction, AssetHealthAssessed? Assessment, ActivityContext Trace = default);
