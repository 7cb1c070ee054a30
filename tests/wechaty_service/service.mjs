// The official wechaty puppet service (wechaty-puppet-service) in front of the mock puppet
// (wechaty-puppet-mock), driven by villagebot's tests through a line protocol.
//
// Each line on stdin is one JSON command {"id": n, "op": "...", ...}; each answer is one line on
// stdout, "@@" followed by JSON: {"id": n, "ok": true, ...} or {"id": n, "ok": false, "error": "..."}.
// What happens on its own (the bot sent a message, the puppet was started or stopped) comes as
// {"event": "..."} lines. Anything else the libraries print goes to stderr.
//
// Commands: contact {contact, name} · room {room, topic, members} · login {contact} ·
// serve {token, tls} (the service on 127.0.0.1, the same port every time; tls false: plain text) ·
// unserve (the service stopped, the puppet left running: a restart is unserve then serve) ·
// say {talker, room, text, mentions, at} · error {message} (the puppet emits an error event, as
// wechaty-puppet 1.x does when a payload fails to load) · ca (the service's built-in CA).
import fs from 'node:fs'
import net from 'node:net'
import readline from 'node:readline'

import { PuppetMock, mock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'
import { log } from 'wechaty-puppet'

const MARK = '@@'
const CA_MODULE = './node_modules/wechaty-puppet-service/dist/esm/src/auth/ca.js'

function write (object) {
  process.stdout.write(MARK + JSON.stringify(object) + '\n')
}

/** The mock puppet, telling the test what the bot sends and when it is started or stopped. */
class RecordingPuppet extends PuppetMock {
  async messageSendText (conversationId, text, mentionIdList) {
    const id = await super.messageSendText(conversationId, text, mentionIdList)
    write({ event: 'sent', conversation: conversationId, text, mentions: mentionIdList || [] })
    return id
  }

  async messageSendFile (conversationId, fileBox) {
    // The FileBox as the service rebuilt it from the bot's JSON: its name and its bytes, in base64.
    const data = await fileBox.toBuffer()
    const id = await super.messageSendFile(conversationId, fileBox)
    write({ event: 'sent-file', conversation: conversationId, name: fileBox.name, base64: data.toString('base64') })
    return id
  }

  async start () {
    write({ event: 'puppet-start' })
    return super.start()
  }

  async stop () {
    write({ event: 'puppet-stop' })
    return super.stop()
  }
}

async function freePort () {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

const mocker = new mock.Mocker()
const puppet = new RecordingPuppet({ mocker })
puppet.on('error', () => {}) // an error event with no stream to carry it must not end this process
const contacts = new Map()
const rooms = new Map()
let server
let port

const commands = {
  contact ({ contact, name }) {
    contacts.set(contact, mocker.createContact({ id: contact, name }))
    return {}
  },
  room ({ room, topic, members }) {
    rooms.set(room, mocker.createRoom({ id: room, topic, memberIdList: members }))
    return {}
  },
  async login ({ contact }) {
    await puppet.start()
    mocker.login(contacts.get(contact))
    return {}
  },
  async serve ({ token, tls }) {
    port = port || await freePort()
    server = new PuppetServer({ endpoint: `127.0.0.1:${port}`, puppet, token, tls: { disable: !tls } })
    await server.start()
    return { port }
  },
  async unserve () {
    if (server) {
      await server.stop()
      server = undefined
    }
    return {}
  },
  say ({ talker, room, text, mentions, at }) {
    const said = contacts.get(talker)
    if (!said) throw new Error(`no contact ${talker}`)
    const where = rooms.get(room)
    if (!where) throw new Error(`no room ${room}`)
    const before = new Set(mocker.cacheMessagePayload.keys())
    said.say(text, (mentions || []).map(id => contacts.get(id))).to(where)
    const [message] = [...mocker.cacheMessagePayload.keys()].filter(id => !before.has(id))
    if (at) { // the test's clock, not this machine's: the time the message was said, in ms
      mocker.messagePayload(message, { ...mocker.messagePayload(message), timestamp: at })
    }
    return { message }
  },
  error ({ message }) {
    puppet.emit('error', new Error(message))
    return {}
  },
  ca () {
    // The package exports only its entry point, so the CA is read from the module that holds it.
    const source = fs.readFileSync(new URL(CA_MODULE, import.meta.url), 'utf8')
    return { pem: source.match(/TLS_CA_CERT = `([^`]+)`/)[1] }
  },
}

log.level(process.env.WECHATY_LOG || 'warn')
const lines = readline.createInterface({ input: process.stdin })
let done = Promise.resolve() // one command at a time, in the order they came
async function handle (line) {
  let request = {}
  try {
    request = JSON.parse(line)
    const answer = await commands[request.op](request)
    write({ id: request.id, ok: true, ...answer })
  } catch (e) {
    write({ id: request.id, ok: false, error: String((e && e.stack) || e) })
  }
}
lines.on('line', line => { done = done.then(() => handle(line)) })
lines.on('close', () => {
  done = done.then(async () => {
    await commands.unserve()
    process.exit(0)
  })
})
write({ event: 'ready' })
