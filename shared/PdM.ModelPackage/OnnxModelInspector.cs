using Google.Protobuf;
using PdM.ModelPackage.Onnx;

namespace PdM.ModelPackage;

/// <summary>
/// Static checks on the ONNX protobuf itself, before ONNX Runtime sees the bytes: the file parses, it imports
/// only the standard operator domains, and no tensor points at external data (which ONNX Runtime would read
/// from a path chosen by the model's author). Walks subgraphs (If/Loop/Scan bodies) and model-local functions.
/// </summary>
public static class OnnxModelInspector
{
    /// <summary>ai.onnx is spelled "" or "ai.onnx"; ai.onnx.ml holds the tree ensembles.</summary>
    public static bool IsAllowedDomain(string domain) =>
        domain.Length == 0 || domain == "ai.onnx" || domain == "ai.onnx.ml";

    public static PackageRejection? Inspect(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return new PackageRejection(PackageRejectionReason.ModelUnparseable, "model.onnx is not a valid ONNX ModelProto: " + ex.Message);
        }

        if (proto.Graph is null || proto.IrVersion <= 0)
        {
            return new PackageRejection(PackageRejectionReason.ModelUnparseable, "model.onnx has no graph or no ir_version");
        }

        foreach (var opset in proto.OpsetImport)
        {
            if (!IsAllowedDomain(opset.Domain))
            {
                return Domain("opset_import imports domain '" + opset.Domain + "'");
            }
        }

        foreach (var function in proto.Functions)
        {
            // A model-local function introduces operators that no schema describes: refuse it outright.
            return Domain("model-local function '" + function.Domain + "." + function.Name + "' is not allowed");
        }

        return InspectGraph(proto.Graph, "graph");
    }

    private static PackageRejection? InspectGraph(GraphProto graph, string where)
    {
        foreach (var tensor in graph.Initializer)
        {
            if (External(tensor, where + " initializer") is { } rejection)
            {
                return rejection;
            }
        }

        foreach (var sparse in graph.SparseInitializer)
        {
            if (External(sparse, where + " sparse initializer") is { } rejection)
            {
                return rejection;
            }
        }

        foreach (var node in graph.Node)
        {
            if (!IsAllowedDomain(node.Domain))
            {
                return Domain("node '" + node.Name + "' (" + node.OpType + ") in " + where + " uses domain '" + node.Domain + "'");
            }

            foreach (var attribute in node.Attribute)
            {
                var at = where + " node '" + node.Name + "' attribute '" + attribute.Name + "'";
                var own = (attribute.T is { } t ? External(t, at) : null)
                    ?? (attribute.SparseTensor is { } s ? External(s, at) : null);
                if (own is not null)
                {
                    return own;
                }

                foreach (var tensor in attribute.Tensors)
                {
                    if (External(tensor, at) is { } rejection)
                    {
                        return rejection;
                    }
                }

                foreach (var sparse in attribute.SparseTensors)
                {
                    if (External(sparse, at) is { } rejection)
                    {
                        return rejection;
                    }
                }

                if (attribute.G is { } g && InspectGraph(g, at) is { } sub)
                {
                    return sub;
                }

                foreach (var subgraph in attribute.Graphs)
                {
                    if (InspectGraph(subgraph, at) is { } rejection)
                    {
                        return rejection;
                    }
                }
            }
        }

        return null;
    }

    private static PackageRejection? External(SparseTensorProto sparse, string where) =>
        (sparse.Values is { } v ? External(v, where) : null) ?? (sparse.Indices is { } i ? External(i, where) : null);

    private static PackageRejection? External(TensorProto tensor, string where)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
        {
            var location = string.Empty;
            foreach (var entry in tensor.ExternalData)
            {
                if (entry.Key == "location")
                {
                    location = " (location '" + entry.Value + "')";
                }
            }

            return new PackageRejection(PackageRejectionReason.ExternalData,
                "tensor '" + tensor.Name + "' in " + where + " refers to external data" + location);
        }

        return null;
    }

    private static PackageRejection Domain(string detail) => new(PackageRejectionReason.DisallowedDomain,
        detail + "; only ai.onnx (\"\") and ai.onnx.ml are allowed");
}
