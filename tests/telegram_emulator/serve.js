// telegram-test-api on 127.0.0.1 at the port given, for tests/test_telegram_emulator.py: prints
// "listening <port>" once it answers, and stops on SIGTERM or when its stdin closes (the test ended).
const TelegramServer = require('telegram-test-api');

const port = Number(process.argv[2]);
const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 600 });

async function stop() {
  await server.stop();
  process.exit(0);
}

server.start().then(() => {
  process.stdout.write(`listening ${port}\n`);
});
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
