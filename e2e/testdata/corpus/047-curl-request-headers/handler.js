// Correlation ids travel as a custom request header; an explicit Content-Type wins.
function OnUpdate(doc, meta) {
    var res = curl("POST", svc, {
        headers: {"X-Custom": "corr-" + meta.id, "Content-Type": "application/vnd.acme+json"},
        body: {n: 1}
    });
    out[meta.id] = {x_custom: res.body.x_custom, content_type: res.body.content_type};
}
