// BENCHMARK ONLY. The Clerk webhook receiver people write instead of
// clerk-mirror-ingress: Node's http server, the `svix` package to verify, `kafkajs`
// to publish, answering 200 only after producer.send() resolved with acks=-1 (the
// same acknowledgement rule as the ingress). One process, as such apps usually run.
//
//   PORT=8090 KAFKA_BROKERS=127.0.0.1:9092 KAFKA_TOPIC=bench \
//   CLERK_WEBHOOK_SECRET=whsec_... node receiver.js
'use strict';
const http = require('http');
const { Webhook } = require('svix');
const { Kafka, logLevel } = require('kafkajs');

const port = Number(process.env.PORT || 8090);
const topic = process.env.KAFKA_TOPIC || 'clerk.events';
const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
const wh = new Webhook(process.env.CLERK_WEBHOOK_SECRET);

const kafka = new Kafka({ clientId: 'node-receiver', brokers, logLevel: logLevel.ERROR });
const producer = kafka.producer({ allowAutoTopicCreation: false });

function keyOf(event) {
  const data = event.data || {};
  if (event.type.startsWith('organizationMembership.')) return (data.organization || {}).id || data.id;
  return data.id;
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/webhooks/clerk') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    let event;
    try {
      event = wh.verify(body.toString('utf8'), req.headers);
    } catch (err) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid"}');
      return;
    }
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: [{
          key: keyOf(event) || req.headers['svix-id'],
          value: body,
          headers: { 'event-id': req.headers['svix-id'], 'event-type': event.type, source: 'webhook' },
        }],
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"accepted"}');
    } catch (err) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' })
        .end('{"error":"publish_failed"}');
    }
  });
});
server.keepAliveTimeout = 60000;

producer.connect().then(() => {
  server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
});
process.on('SIGTERM', async () => {
  server.close();
  await producer.disconnect();
  process.exit(0);
});
