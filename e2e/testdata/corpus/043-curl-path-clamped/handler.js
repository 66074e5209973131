// A document-controlled path must not escape the service the binding names.
function OnUpdate(doc, meta) {
    var res = curl("GET", tenantSvc, {path: doc.path});
    out[meta.id] = {status: res.status, path: res.body.path};
}
