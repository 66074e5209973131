// Programming mistakes with the advanced accessors throw instead of returning a result.
function OnUpdate(doc, meta) {
    function attempt(f) {
        try {
            f();
            return "no error";
        } catch (e) {
            return (e instanceof TypeError || e instanceof EventingError) ? "threw" : "threw " + e.name;
        }
    }
    out[meta.id] = {
        no_id: attempt(function () { couchbase.get(out, {}); }),
        empty_id: attempt(function () { couchbase.get(out, {id: ""}); }),
        not_a_binding: attempt(function () { couchbase.get({}, {id: "x"}); }),
        set_is_undefined: typeof couchbase.set === "undefined"
    };
}
