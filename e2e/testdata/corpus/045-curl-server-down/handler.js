// The notification service is down: the call throws a CurlError the handler can catch.
function OnUpdate(doc, meta) {
    try {
        curl("POST", notifier, {path: "/notify", body: {id: meta.id}});
        out[meta.id] = {threw: false};
    } catch (e) {
        out[meta.id] = {
            threw: true,
            curl_error: e instanceof CurlError,
            is_error: e instanceof Error,
            message: e.message
        };
    }
}
