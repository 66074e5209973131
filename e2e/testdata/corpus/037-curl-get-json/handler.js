// Look up each user in the profile service and keep what it answered.
function OnUpdate(doc, meta) {
    var res = curl("GET", profileSvc, {path: "/users/" + meta.id, params: {expand: "true"}});
    out[meta.id] = {status: res.status, method: res.body.method, path: res.body.path, query: res.body.query};
}
