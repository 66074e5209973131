// Optimistic locking: a replace with a stale CAS must be rejected.
function OnUpdate(doc, meta) {
    var cur = couchbase.get(accounts, {id: "acct::" + doc.account});
    var stale = cur.meta.cas;
    // Someone else updates the account first...
    couchbase.upsert(accounts, {id: "acct::" + doc.account}, {balance: cur.doc.balance + 1});
    // ...so our replace with the CAS we read is refused.
    var res = couchbase.replace(accounts, {id: "acct::" + doc.account, cas: stale},
                                {balance: cur.doc.balance + doc.amount});
    outcome[meta.id] = {
        success: res.success,
        cas_mismatch: !res.success && res.error.cas_mismatch === true
    };
}
