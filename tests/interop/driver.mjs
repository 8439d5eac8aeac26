// Drives the official @motiadev/adapter-redis-state for tests/interop.rs and benches/adapter.rs.
//
// stdin: {"nodeModules": DIR, "url": "redis://...", "keyPrefix"?: S, "ttl"?: N, "ops": [OP...]}
// stdout: one line `RESULT <json>` holding one result per op (the adapter itself may log to stdout,
// so callers look for the marker). Values travel as JSON text produced by JSON.stringify, so what
// Node would store or what JSON.parse rounded stays visible to the Rust side.
//
// OPs:
//   {op:"set", g, k, v}         set a JSON value            -> {stored: JSON.stringify(value)}
//   {op:"set", g, k, js}        set the value of a JS expression (JSON.rawJSON, -0, undefined...)
//   {op:"get", g, k}            -> {text}
//   {op:"delete", g, k}         -> {text}
//   {op:"getGroup", g}          -> {texts: [...]}
//   {op:"keys", g}              -> {keys: [...]}
//   {op:"clear", g}             -> {}
//   {op:"traceIds"}             -> {ids: [...]}
//   {op:"items", input}         -> {items: [{groupId, key, type, text}]}
//   {op:"timeTraceIds", reps}   -> {ms: [...], count}
//   {op:"timeItems", reps}      -> {ms: [...], count}
//   {op:"latency", what:"get"|"set", g, k, n}  -> {us: [...]} (one sample per call)
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const input = JSON.parse(readFileSync(0, 'utf8'))
const entry = join(input.nodeModules, '@motiadev', 'adapter-redis-state', 'dist', 'index.mjs')
const { RedisStateAdapter } = await import(pathToFileURL(entry).href)

const options = {}
if (input.keyPrefix !== undefined) options.keyPrefix = input.keyPrefix
if (input.ttl !== undefined) options.ttl = input.ttl
// The way Motia users configure it: node-redis client options, the adapter connects itself.
const adapter = new RedisStateAdapter({ url: input.url }, options)

const evaluate = (expr) => {
  if (expr.includes('JSON.rawJSON') && typeof JSON.rawJSON !== 'function') {
    throw new Error('JSON.rawJSON is unavailable (run node with --harmony-json-parse-with-source)')
  }
  return new Function(`return (${expr})`)()
}
const text = (v) => (v === undefined ? 'undefined' : JSON.stringify(v))
const now = () => process.hrtime.bigint()
const ms = (t0) => Number(now() - t0) / 1e6

async function run(op) {
  switch (op.op) {
    case 'set': {
      const value = op.js !== undefined ? evaluate(op.js) : op.v
      await adapter.set(op.g, op.k, value)
      return { stored: JSON.stringify(value) }
    }
    case 'get':
      return { text: text(await adapter.get(op.g, op.k)) }
    case 'delete':
      return { text: text(await adapter.delete(op.g, op.k)) }
    case 'getGroup':
      return { texts: (await adapter.getGroup(op.g)).map(text) }
    case 'keys':
      return { keys: await adapter.keys(op.g) }
    case 'clear':
      await adapter.clear(op.g)
      return {}
    case 'traceIds':
      return { ids: await adapter.traceIds() }
    case 'items': {
      const items = await adapter.items(op.input)
      return { items: items.map((i) => ({ groupId: i.groupId, key: i.key, type: i.type, text: text(i.value) })) }
    }
    case 'timeTraceIds':
    case 'timeItems': {
      const out = { ms: [], count: 0 }
      for (let r = 0; r < op.reps; r++) {
        const t0 = now()
        const res = op.op === 'timeItems' ? await adapter.items({}) : await adapter.traceIds()
        out.ms.push(ms(t0))
        out.count = res.length
      }
      return out
    }
    case 'latency': {
      const us = []
      const value = { status: 'paid', amount: 42, lines: [1, 2, 3] }
      for (let i = 0; i < op.n; i++) {
        const t0 = now()
        if (op.what === 'set') await adapter.set(op.g, op.k, value)
        else await adapter.get(op.g, op.k)
        us.push(Number(now() - t0) / 1e3)
      }
      return { us }
    }
    default:
      throw new Error(`unknown op ${op.op}`)
  }
}

const results = []
try {
  for (const op of input.ops) results.push(await run(op))
} finally {
  await adapter.cleanup()
}
process.stdout.write(`RESULT ${JSON.stringify(results)}\n`)
