// Inspect response headers exactly as the handler sees them.
function OnUpdate(doc, meta) {
    var res = curl("GET", svc, {path: "/x"});
    out[meta.id] = {
        content_type: res.headers["Content-Type"],
        content_length_raw: /^ [0-9]+\r\n$/.test(res.headers["Content-Length"])
    };
}
