namespace PdM.Edge.Journal;

/// <summary>
/// The in-memory index of what the database holds (no payloads): quota, TTL and lease decisions are made here without a
/// query. Thread-safe for readers (statistics, <see cref="Release"/>, the uplink state); changed by the writer loop in
/// three steps, each under <see cref="Gate"/>: <c>Plan…</c> before the transaction (decide and mark), <c>Apply…</c>
/// after it committed, or <c>Undo…</c>/<see cref="Unmark"/> when it did not.
/// </summary>
internal sealed class JournalIndex
{
    private readonly JournalOptions _options;
    private readonly TimeProvider _time;
    private readonly TokenBucket _throttle;
    private readonly TimeSpan?[] _ttls = new TimeSpan?[MessageClasses.Count];

    private readonly Dictionary<long, JournalSlot> _slots = [];
    private readonly SortedSet<long>[] _byClass = new SortedSet<long>[MessageClasses.Count];
    private readonly long[] _classBytes = new long[MessageClasses.Count];
    private readonly long[] _appended = new long[MessageClasses.Count];
    private readonly long[] _acknowledged = new long[MessageClasses.Count];
    private readonly long[] _expired = new long[MessageClasses.Count];
    private readonly long[] _evicted = new long[MessageClasses.Count];
    private readonly long[] _rejected = new long[MessageClasses.Count];
    private long _bytes;
    private long _highestId;
    private long _replayBoundary;
    private bool _uplinkUp = true;
    private long _commits;
    private long _quotaExceeded;

    // Planning state of the batch being built (writer loop only): what the quota will see once it commits.
    private long _plannedBytes;
    private readonly long[] _plannedClassBytes = new long[MessageClasses.Count];

    public JournalIndex(JournalOptions options, TimeProvider time, JournalStore store)
    {
        _options = options;
        _time = time;
        _throttle = new TokenBucket(time, options.ReplayRatePerSecond, options.ReplayBurst);
        for (var i = 0; i < MessageClasses.Count; i++)
        {
            _byClass[i] = [];
            _ttls[i] = options.Ttl.For((MessageClass)i);
        }

        _highestId = store.HighestId();
        store.LoadIndex(AddLoaded);

        // Whatever outlived a restart waited through an outage of the gateway itself: it is backlog.
        _replayBoundary = _highestId + 1;
    }

    /// <summary>Held by the writer loop around each Plan, Apply and Undo step; every other member takes it itself.</summary>
    public Lock Gate { get; } = new();

    /// <summary>Payload bytes held (what the quota counts).</summary>
    public long Bytes
    {
        get
        {
            lock (Gate)
            {
                return _bytes;
            }
        }
    }

    public bool IsUplinkUp
    {
        get
        {
            lock (Gate)
            {
                return _uplinkUp;
            }
        }
    }

    /// <summary>Ends the leases of <paramref name="ids"/> at once; returns how many were leased.</summary>
    public int Release(IReadOnlyCollection<long> ids)
    {
        var released = 0;
        lock (Gate)
        {
            foreach (var id in ids)
            {
                if (_slots.TryGetValue(id, out var slot) && slot.LeaseExpires != 0)
                {
                    slot.LeaseExpires = 0;
                    released++;
                }
            }
        }

        return released;
    }

    /// <summary>
    /// Extends the leases of <paramref name="ids"/> to <paramref name="delay"/> from now, so they are offered again only
    /// then; returns how many were leased. Like a release, except that the entry is not offered at once.
    /// </summary>
    public int Defer(IReadOnlyCollection<long> ids, TimeSpan delay)
    {
        var deferred = 0;
        lock (Gate)
        {
            var until = _time.GetTimestamp() + Math.Max(1, (long)(delay.TotalSeconds * _time.TimestampFrequency));
            foreach (var id in ids)
            {
                if (_slots.TryGetValue(id, out var slot) && slot.LeaseExpires != 0)
                {
                    slot.LeaseExpires = until;
                    deferred++;
                }
            }
        }

        return deferred;
    }

    public void UplinkDown()
    {
        lock (Gate)
        {
            _uplinkUp = false;
        }
    }

    /// <summary>Everything committed so far becomes backlog; does nothing when the uplink was not down.</summary>
    public void UplinkUp()
    {
        lock (Gate)
        {
            if (_uplinkUp)
            {
                return;
            }

            _uplinkUp = true;
            _replayBoundary = _highestId + 1;
        }
    }

    public JournalStatistics GetStatistics()
    {
        lock (Gate)
        {
            var classes = new JournalClassStatistics[MessageClasses.Count];
            for (var i = 0; i < classes.Length; i++)
            {
                classes[i] = new JournalClassStatistics((MessageClass)i, _byClass[i].Count, _classBytes[i], _appended[i], _acknowledged[i], _expired[i], _evicted[i], _rejected[i]);
            }

            var now = _time.GetTimestamp();
            var leased = 0;
            var backlog = 0;
            foreach (var slot in _slots.Values)
            {
                if (slot.IsLeased(now))
                {
                    leased++;
                }

                if (slot.Id < _replayBoundary)
                {
                    backlog++;
                }
            }

            return new JournalStatistics(classes, _bytes, _options.QuotaBytes, leased, backlog, _uplinkUp, _commits, _quotaExceeded);
        }
    }

    /// <summary>The ids held, oldest first (for tests and diagnostics).</summary>
    public long[] SnapshotIds()
    {
        lock (Gate)
        {
            var ids = _slots.Keys.ToArray();
            Array.Sort(ids);
            return ids;
        }
    }

    public void CopyCounts(Span<long> counts)
    {
        lock (Gate)
        {
            for (var i = 0; i < MessageClasses.Count; i++)
            {
                counts[i] = _byClass[i].Count;
            }
        }
    }

    /// <summary>
    /// When the oldest entry of each class was appended (UTC ticks), 0 for an empty class: ids grow with time, so the
    /// smallest id of a class is its oldest entry.
    /// </summary>
    public void CopyOldestAppended(Span<long> ticks)
    {
        lock (Gate)
        {
            for (var i = 0; i < MessageClasses.Count; i++)
            {
                ticks[i] = _byClass[i].Count == 0 ? 0 : _slots[_byClass[i].Min].AppendedTicks;
            }
        }
    }

    /// <summary>The configured quota (Journal:QuotaBytes), for the fill-level gauge.</summary>
    public long QuotaBytes => _options.QuotaBytes;

    // Everything below runs on the writer loop with Gate held.

    public long UtcNowTicks() => _time.GetUtcNow().UtcTicks;

    /// <summary>Starts planning a batch from what is committed.</summary>
    public void BeginPlan()
    {
        _plannedBytes = _bytes;
        _classBytes.CopyTo(_plannedClassBytes, 0);
    }

    /// <summary>A batch committed.</summary>
    public void Committed() => _commits++;

    /// <summary>
    /// Makes room for an entry of <paramref name="size"/> bytes: marks the oldest entries of the classes it may evict
    /// into <paramref name="victims"/>. Returns false (nothing marked) when evicting could not make room and the entry
    /// is not a failure prediction; <paramref name="overQuota"/> says a failure prediction goes in over the quota.
    /// </summary>
    public bool PlanAppend(MessageClass messageClass, int size, List<JournalSlot> victims, out bool overQuota)
    {
        overQuota = false;
        var over = _plannedBytes + size - _options.QuotaBytes;
        if (over > 0)
        {
            long evictable = 0;
            var classes = MessageClasses.EvictableClassCount(messageClass);
            for (var i = 0; i < classes; i++)
            {
                evictable += _plannedClassBytes[(int)MessageClasses.DropOrder[i]];
            }

            if (messageClass != MessageClass.FailurePrediction && evictable < over)
            {
                // Evicting would not make room: keep what is there rather than lose it for nothing.
                return false;
            }

            PlanEvictions(messageClass, ref over, victims);
            overQuota = over > 0;
        }

        _plannedBytes += size;
        _plannedClassBytes[(int)messageClass] += size;
        return true;
    }

    public void ApplyAppend(JournalSlot slot, List<JournalSlot> victims, bool overQuota)
    {
        foreach (var victim in victims)
        {
            if (RemoveSlot(victim.Id, out _))
            {
                _evicted[(int)victim.Class]++;
            }
        }

        AddSlot(slot);
        _highestId = Math.Max(_highestId, slot.Id);
        _appended[(int)slot.Class]++;
        if (overQuota)
        {
            _quotaExceeded++;
        }
    }

    public void ApplyRejected(MessageClass messageClass) => _rejected[(int)messageClass]++;

    /// <summary>
    /// Leases up to <paramref name="max"/> entries (see <see cref="EdgeJournal.LeaseNextAsync"/>), within
    /// <paramref name="budget"/> when given (see <see cref="EdgeJournal.LeaseWithinAsync"/>), and counts an attempt on
    /// each. Returns the first sendable entry the budget left out (its class and cost), if any.
    /// </summary>
    public (MessageClass Class, long Cost)? PlanLeases(int max, LeaseBudget? budget, List<(JournalSlot Slot, bool IsReplay)> selected)
    {
        var waiting = SelectLeases(max, budget, selected);
        foreach (var (slot, _) in selected)
        {
            slot.Attempts++;
        }

        return waiting;
    }

    public static void UndoLeases(List<(JournalSlot Slot, bool IsReplay)> selected)
    {
        foreach (var (slot, _) in selected)
        {
            slot.Attempts--;
            slot.LeaseExpires = slot.PreviousLease;
        }
    }

    /// <summary>The quota may count the bytes of the entries being acknowledged as free for the rest of the batch.</summary>
    public void PlanAcknowledge(long[] ids)
    {
        foreach (var id in ids)
        {
            if (_slots.TryGetValue(id, out var slot) && !slot.Dropping)
            {
                _plannedBytes -= slot.PayloadBytes;
                _plannedClassBytes[(int)slot.Class] -= slot.PayloadBytes;
            }
        }
    }

    /// <summary>Removes the acknowledged entries still held and adds their classes to <paramref name="removed"/>.</summary>
    public void ApplyAcknowledge(long[] ids, List<MessageClass> removed)
    {
        foreach (var id in ids)
        {
            if (RemoveSlot(id, out var slot))
            {
                _acknowledged[(int)slot.Class]++;
                removed.Add(slot.Class);
            }
        }
    }

    /// <summary>Marks the entries past their class's TTL that are not leased into <paramref name="expired"/>.</summary>
    public void PlanExpired(List<JournalSlot> expired)
    {
        var now = _time.GetTimestamp();
        var nowUtc = _time.GetUtcNow().UtcTicks;
        for (var c = 0; c < MessageClasses.Count; c++)
        {
            if (_ttls[c] is null)
            {
                continue;
            }

            foreach (var id in _byClass[c])
            {
                var slot = _slots[id];
                if (!IsExpired(slot, nowUtc))
                {
                    // Appended times grow with ids (one clock, one writer): the rest of the class is younger.
                    break;
                }

                // A leased entry may be confirmed any moment; it goes on the next purge if it comes back.
                if (slot.Dropping || slot.IsLeased(now))
                {
                    continue;
                }

                slot.Dropping = true;
                expired.Add(slot);
                _plannedBytes -= slot.PayloadBytes;
                _plannedClassBytes[c] -= slot.PayloadBytes;
            }
        }
    }

    public void ApplyExpired(List<JournalSlot> expired)
    {
        foreach (var slot in expired)
        {
            if (RemoveSlot(slot.Id, out _))
            {
                _expired[(int)slot.Class]++;
            }
        }
    }

    /// <summary>Entries marked for deletion by a batch that did not commit are offered and chosen again.</summary>
    public static void Unmark(List<JournalSlot> marked)
    {
        foreach (var slot in marked)
        {
            slot.Dropping = false;
        }
    }

    private void AddLoaded(long id, MessageClass messageClass, int payloadBytes, long appendedTicks, int attempts)
    {
        var slot = new JournalSlot(id, messageClass, payloadBytes, appendedTicks) { Attempts = attempts };
        AddSlot(slot);
        _highestId = Math.Max(_highestId, id);
    }

    private void AddSlot(JournalSlot slot)
    {
        _slots.Add(slot.Id, slot);
        _byClass[(int)slot.Class].Add(slot.Id);
        _classBytes[(int)slot.Class] += slot.PayloadBytes;
        _bytes += slot.PayloadBytes;
    }

    private bool RemoveSlot(long id, out JournalSlot slot)
    {
        if (!_slots.Remove(id, out slot!))
        {
            return false;
        }

        _byClass[(int)slot.Class].Remove(id);
        _classBytes[(int)slot.Class] -= slot.PayloadBytes;
        _bytes -= slot.PayloadBytes;
        return true;
    }

    private bool IsExpired(JournalSlot slot, long nowUtcTicks) =>
        _ttls[(int)slot.Class] is { } ttl && nowUtcTicks - slot.AppendedTicks > ttl.Ticks;

    /// <summary>Marks the oldest entries of the classes the incoming one may evict until <paramref name="over"/> bytes are freed.</summary>
    private void PlanEvictions(MessageClass incoming, ref long over, List<JournalSlot> victims)
    {
        var classes = MessageClasses.EvictableClassCount(incoming);
        for (var i = 0; i < classes && over > 0; i++)
        {
            var messageClass = MessageClasses.DropOrder[i];
            foreach (var id in _byClass[(int)messageClass])
            {
                if (over <= 0)
                {
                    break;
                }

                var slot = _slots[id];
                if (slot.Dropping)
                {
                    continue;
                }

                // Oldest first even when leased: the quota must hold, and an acknowledgement of a dropped entry is harmless.
                slot.Dropping = true;
                victims.Add(slot);
                over -= slot.PayloadBytes;
                _plannedBytes -= slot.PayloadBytes;
                _plannedClassBytes[(int)messageClass] -= slot.PayloadBytes;
            }
        }
    }

    private (MessageClass Class, long Cost)? SelectLeases(int max, LeaseBudget? budget, List<(JournalSlot Slot, bool IsReplay)> selected)
    {
        var now = _time.GetTimestamp();
        var nowUtc = _time.GetUtcNow().UtcTicks;
        var expires = now + (long)(_options.LeaseTimeout.TotalSeconds * _time.TimestampFrequency);
        var groups = budget is null ? MessageClasses.SendGroups : MessageClasses.BudgetedSendGroups;
        var remaining = budget?.Bytes ?? long.MaxValue;
        (MessageClass Class, long Cost)? waiting = null;

        // Under a budget the order is strict: once a sendable entry is left out (no bytes left, or the backlog's rate
        // reached), nothing after it in the order goes, so what is cheap but less urgent cannot overtake it.
        var held = false;
        if (!_uplinkUp)
        {
            foreach (var group in groups)
            {
                foreach (var c in group)
                {
                    Take(_byClass[(int)c], max, isReplay: false);
                }
            }

            return waiting;
        }

        var replayAllowance = -1;
        var replayed = 0;
        foreach (var group in groups)
        {
            foreach (var c in group)
            {
                Take(_byClass[(int)c].GetViewBetween(_replayBoundary, long.MaxValue), max, isReplay: false);
            }

            if (selected.Count < max && !held && _replayBoundary > 1)
            {
                if (replayAllowance < 0)
                {
                    replayAllowance = (int)Math.Max(0, Math.Floor(_throttle.Available()));
                }

                var limit = selected.Count + Math.Min(max - selected.Count, replayAllowance - replayed);
                var before = selected.Count;
                foreach (var c in group)
                {
                    Take(_byClass[(int)c].GetViewBetween(long.MinValue, _replayBoundary - 1), limit, isReplay: true);
                }

                replayed += selected.Count - before;
            }
        }

        _throttle.Take(replayed);
        return waiting;

        void Take(SortedSet<long> ids, int limit, bool isReplay)
        {
            foreach (var id in ids)
            {
                if (held || (budget is null && selected.Count >= limit))
                {
                    return;
                }

                var slot = _slots[id];
                if (slot.Dropping || slot.IsLeased(now) || IsExpired(slot, nowUtc))
                {
                    continue;
                }

                if (budget is { } b)
                {
                    if (selected.Count >= limit)
                    {
                        held = true;
                        return;
                    }

                    var cost = (long)slot.PayloadBytes + b.OverheadBytesPerEntry;
                    if (cost > remaining && !(b.FirstAlways && selected.Count == 0))
                    {
                        waiting = (slot.Class, cost);
                        held = true;
                        return;
                    }

                    remaining -= cost;
                }

                slot.PreviousLease = slot.LeaseExpires;
                slot.LeaseExpires = expires;
                selected.Add((slot, isReplay || slot.Id < _replayBoundary));
            }
        }
    }
}
