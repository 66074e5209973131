// A 404 from the service is an answer to handle, not an exception.
function OnUpdate(doc, meta) {
    var res = curl("GET", svc, {path: "/" + doc.code});
    out[meta.id] = {status: res.status, body: res.body};
}
