function OnUpdate(doc, meta) {
    try {
        curl("GET", svc, {path: "/x", timeout: -1});
        out[meta.id] = {threw: false};
    } catch (e) {
        out[meta.id] = {threw: true, curl_error: e instanceof CurlError, message: e.message};
    }
}
