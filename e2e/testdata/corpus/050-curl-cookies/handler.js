// A login-then-fetch flow: cookies are kept within one invocation only when the binding allows them.
function OnUpdate(doc, meta) {
    curl("GET", withCookies, {path: "/cookie/set"});
    var kept = curl("GET", withCookies, {path: "/cookie/get"});
    curl("GET", noCookies, {path: "/cookie/set"});
    var dropped = curl("GET", noCookies, {path: "/cookie/get"});
    out[meta.id] = {with_cookies: kept.body, without_cookies: dropped.body};
}
