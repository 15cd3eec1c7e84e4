using System.Collections.Concurrent;
using MassTransit;
using PdM.Contracts.Maintenance;

namespace PdM.Maintenance.Tests;

/// <summary>What another module would receive from Maintenance over RabbitMQ.</summary>
public sealed class ReceivedEvents
{
    public ConcurrentQueue<WorkOrderRaised> Raised { get; } = new();

    public ConcurrentQueue<MaintenanceCaseEscalated> Escalated { get; } = new();

    public ConcurrentQueue<MaintenanceOutcomeRecorded> Outcomes { get; } = new();
}

public sealed class EventCollector(ReceivedEvents events) :
    IConsumer<WorkOrderRaised>, IConsumer<MaintenanceCaseEscalated>, IConsumer<MaintenanceOutcomeRecorded>
{
    public Task Consume(ConsumeContext<WorkOrderRaised> context)
    {
        events.Raised.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<MaintenanceCaseEscalated> context)
    {
        events.Escalated.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<MaintenanceOutcomeRecorded> context)
    {
        events.Outcomes.Enqueue(context.Message);
        return Task.CompletedTask;
    }
}
