// Call a service with every method; the per-method counters follow.
function OnUpdate(doc, meta) {
    curl("GET", svc, {path: "/a"});
    curl("GET", svc, {path: "/b"});
    curl("POST", svc, {path: "/c", body: {n: 1}});
    curl("PUT", svc, {path: "/d", body: "x"});
    curl("DELETE", svc, {path: "/e"});
    curl("HEAD", svc, {path: "/f"});
    out[meta.id] = {done: true};
}
