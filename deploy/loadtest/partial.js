// Artillery processor: counts the gateway's partial answers (X-Aggregate-Complete: false) among the responses.
module.exports = { countPartial };

function countPartial(request, response, context, events, next) {
  if (String(response.headers['x-aggregate-complete']).toLowerCase() === 'false') {
    events.emit('counter', 'gateway.partial', 1);
  }
  return next();
}
