// First-writer-wins registration: insert fails if the username is taken.
function OnUpdate(doc, meta) {
    var res = couchbase.insert(names, {id: "username::" + doc.username}, {owner: meta.id});
    var log_entry = {success: res.success};
    if (!res.success) {
        log_entry.key_already_exists = res.error.key_already_exists === true;
        log_entry.name = res.error.name;
    } else {
        log_entry.cas_type = typeof res.meta.cas;
    }
    attempts[meta.id] = log_entry;
}
