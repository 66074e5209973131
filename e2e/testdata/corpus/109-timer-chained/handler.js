// A two-stage workflow: shipping schedules a delivery check, and the
// delivery check (a timer callback) schedules the feedback request.
function OnUpdate(doc, meta) {
    createTimer(CheckDelivery, new Date(), "delivery::" + meta.id, {order: meta.id});
}

function CheckDelivery(context) {
    steps[context.order + "::delivery"] = {stage: "delivery"};
    var ref = createTimer(AskFeedback, new Date(Date.now() + 200), "feedback::" + context.order,
                          {order: context.order, after: "delivery"});
    steps[context.order + "::ref"] = {ref: ref};
}

function AskFeedback(context) {
    steps[context.order + "::feedback"] = {stage: "feedback", after: context.after};
}
