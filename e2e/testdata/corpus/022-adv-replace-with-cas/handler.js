// Read-modify-write with CAS: the replace succeeds when nobody interfered.
function OnUpdate(doc, meta) {
    var cur = couchbase.get(accounts, {id: "acct::" + doc.account});
    var res = couchbase.replace(accounts, {id: "acct::" + doc.account, cas: cur.meta.cas},
                                {balance: cur.doc.balance + doc.amount, last_tx: meta.id});
    outcome[meta.id] = {success: res.success, new_cas_differs: res.meta.cas !== cur.meta.cas};
}
