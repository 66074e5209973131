// Post a plain-text note and read a plain-text answer.
function OnUpdate(doc, meta) {
    var sent = curl("POST", echoSvc, {body: "note for " + meta.id});
    var text = curl("GET", textSvc, {path: "/greeting"});
    out[meta.id] = {
        sent_content_type: sent.body.content_type,
        sent_body: sent.body.body,
        answer_type: typeof text.body,
        answer: text.body
    };
}
