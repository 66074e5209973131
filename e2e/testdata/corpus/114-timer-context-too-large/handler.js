// Timers that carry the whole document: fine for small documents, refused
// above timer_context_size; the handler falls back to a reference only.
function OnUpdate(doc, meta) {
    var due = new Date();
    try {
        createTimer(Archive, due, meta.id, {id: meta.id, doc: doc});
        outcome[meta.id] = {full_context: true};
    } catch (e) {
        createTimer(Archive, due, meta.id, {id: meta.id});
        outcome[meta.id] = {full_context: false, message: e.message, eventing_error: e instanceof EventingError};
    }
}

function Archive(context) {
    outcome["archived::" + context.id] = {had_doc: context.doc !== undefined};
}
