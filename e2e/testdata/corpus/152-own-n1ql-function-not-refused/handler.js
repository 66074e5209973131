// A handler that defines its own helper called N1QL (built-ins may be
// overridden): calling it is not a query.
function N1QL(statement, params) {
    return [{statement: statement, params: params}];
}

function OnUpdate(doc, meta) {
    var rows = N1QL("SELECT name FROM users WHERE id = $1", [meta.id]);
    out[meta.id] = {rows: rows};
}
