namespace PdM.Maintenance.Cmms;

public enum CmmsOutcome
{
    Success = 0,

    /// <summary>Network failure, timeout, dropped connection or 5xx: retry with backoff; counts against the breaker.</summary>
    Transient = 1,

    /// <summary>429: retry after the server's <c>Retry-After</c>; does not count against the breaker.</summary>
    RateLimited = 2,

    /// <summary>401/403 (not a CSRF challenge): credentials are wrong. Parked; retrying would only lock the account.</summary>
    AuthenticationFailed = 3,

    /// <summary>The CMMS refused the content (4xx with a reason): parked for an operator, retrying cannot help.</summary>
    Rejected = 4,
}

/// <summary>Where a record lives in the CMMS.</summary>
public sealed record CmmsRecordRef(string RecordId, string Url);

/// <summary>A record's state as the CMMS reports it, for the feedback loop.</summary>
public sealed record CmmsRecordState(string Status, bool Closed, string? CloseCode, DateTimeOffset? ClosedAt);

/// <summary>
/// The result of one CMMS call: a value, never an exception, so the dispatcher can decide retry, park or break.
/// <see cref="Code"/> is the vendor's own reason code when it gave one (BMXAA…, /IWBEP/…, IW/051): what parked work
/// orders are counted by. <see cref="CreateInDoubt"/>: a create was sent and no answer came from the CMMS (a timeout,
/// a connection dropped after sending, a proxy's 502 or 504), so the CMMS may still carry it out.
/// </summary>
public sealed record CmmsResult(CmmsOutcome Outcome, string? Error = null, TimeSpan? RetryAfter = null, CmmsRecordRef? Record = null,
    string? Status = null, bool Created = false, CmmsRecordState? State = null, string? Code = null, bool CreateInDoubt = false)
{
    public bool IsSuccess => Outcome == CmmsOutcome.Success;

    public static CmmsResult Done(CmmsRecordRef record, string? status, bool created) => new(CmmsOutcome.Success, Record: record, Status: status, Created: created);

    public static CmmsResult Read(CmmsRecordState state) => new(CmmsOutcome.Success, Status: state.Status, State: state);

    public static CmmsResult Fail(CmmsOutcome outcome, string error, TimeSpan? retryAfter = null, string? code = null) =>
        new(outcome, error, retryAfter, Code: code);
}
