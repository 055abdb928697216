/**
 * The status page (`GET /`): one self-contained HTML file, no framework and
 * nothing fetched from elsewhere (the machine is offline). Its script reads
 * `status.json` every 2 s and draws heads, syncs (with progress bars), peers
 * and what was served. Names come from the store: they are set as text,
 * never as HTML.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ferry</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
  h1 { font-size: 1.4em; margin: 0 0 .2em; }
  h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
  #meta { color: #666; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
  th { background: #f0f0f0; font-weight: 600; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .mono { font-family: ui-monospace, monospace; font-size: .9em; }
  .yes { color: #176e2c; } .no { color: #a33; }
  .bar { width: 14em; height: .9em; background: #e4e4e4; border-radius: .3em; overflow: hidden; display: inline-block; }
  .bar > span { display: block; height: 100%; background: #2f7bd8; }
  .empty { color: #888; font-style: italic; }
  #error { color: #a33; }
</style>
</head>
<body>
<h1>ferry</h1>
<div id="meta">loading…</div>
<div id="error"></div>
<h2>Heads</h2>
<table id="heads"><thead><tr><th>Name</th><th>Version</th><th>Seq</th><th>Complete</th><th>Size</th><th>Entries</th></tr></thead><tbody></tbody></table>
<h2>Syncs</h2>
<table id="syncs"><thead><tr><th>Head</th><th>State</th><th>Progress</th><th>Blocks</th><th>Received</th><th>Rate</th><th>Peers</th></tr></thead><tbody></tbody></table>
<h2>Peers</h2>
<table id="peers"><thead><tr><th>Peer</th><th>Connected</th><th>Addresses</th></tr></thead><tbody></tbody></table>
<h2>Served</h2>
<div id="served-totals"></div>
<table id="served"><thead><tr><th>Time</th><th>Request</th><th>Status</th><th>Bytes</th><th>Client</th></tr></thead><tbody></tbody></table>
<script>
'use strict'
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
function bytes(n) {
  if (n === null || n === undefined) return '–'
  let i = 0
  while (n >= 1024 && i < UNITS.length - 1) { n /= 1024; i++ }
  return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + UNITS[i]
}
function cell(row, text, cls) {
  const td = document.createElement('td')
  td.textContent = text
  if (cls) td.className = cls
  row.appendChild(td)
  return td
}
function fill(id, items, columns, what) {
  const body = document.querySelector('#' + id + ' tbody')
  body.replaceChildren()
  if (items.length === 0) {
    const row = body.insertRow()
    const td = cell(row, 'no ' + what, 'empty')
    td.colSpan = document.querySelectorAll('#' + id + ' th').length
    return
  }
  for (const item of items) {
    const row = body.insertRow()
    columns(row, item)
  }
}
function progress(row, done, total) {
  const td = cell(row, '')
  const bar = document.createElement('span')
  bar.className = 'bar'
  const fillEl = document.createElement('span')
  const share = total > 0 ? Math.min(1, done / total) : 0
  fillEl.style.width = (share * 100).toFixed(1) + '%'
  bar.appendChild(fillEl)
  td.appendChild(bar)
  td.appendChild(document.createTextNode(' ' + (share * 100).toFixed(1) + '%'))
  bar.setAttribute('role', 'progressbar')
  bar.setAttribute('aria-valuenow', (share * 100).toFixed(1))
}
function draw(data) {
  const s = data.status
  document.getElementById('meta').textContent =
    'peer ' + s.peerId + (s.serve ? ' · serving on ' + s.serve.address : '') +
    ' · store ' + s.store.blocks + ' blocks, ' + bytes(s.store.bytes) + ' · updated ' + new Date(data.at).toLocaleTimeString()
  fill('heads', data.heads, (row, h) => {
    row.dataset.head = h.name + '@' + h.version
    cell(row, h.name); cell(row, h.version); cell(row, String(h.seq), 'n')
    cell(row, h.complete ? 'yes' : 'no', h.complete ? 'yes' : 'no')
    cell(row, bytes(h.size), 'n'); cell(row, h.entries === null ? '–' : String(h.entries), 'n')
  }, 'heads')
  fill('syncs', s.sync, (row, j) => {
    row.dataset.sync = j.name + '@' + j.version
    cell(row, j.name + ' ' + j.version + ' (seq ' + j.seq + ')')
    cell(row, j.state + (j.error ? ': ' + j.error : ''))
    progress(row, j.haveBlocks, j.haveBlocks + j.wantBlocks)
    cell(row, j.haveBlocks + ' / ' + (j.haveBlocks + j.wantBlocks), 'n')
    cell(row, bytes(j.bytesReceived), 'n'); cell(row, bytes(Math.round(j.rate)) + '/s', 'n')
    cell(row, String(j.peers.length), 'n')
  }, 'syncs')
  fill('peers', s.peers, (row, p) => {
    cell(row, p.id, 'mono'); cell(row, p.connected ? 'yes' : 'no', p.connected ? 'yes' : 'no')
    cell(row, p.addrs.join(' '), 'mono')
  }, 'peers')
  document.getElementById('served-totals').textContent =
    data.served.requests + ' requests, ' + bytes(data.served.bytes) + ' sent'
  fill('served', data.served.recent, (row, r) => {
    cell(row, new Date(r.at).toLocaleTimeString()); cell(row, r.method + ' ' + r.path, 'mono')
    cell(row, String(r.status), 'n'); cell(row, bytes(r.bytes), 'n'); cell(row, r.client, 'mono')
  }, 'requests yet')
}
async function refresh() {
  try {
    const res = await fetch('status.json', { cache: 'no-store' })
    if (!res.ok) throw new Error('status.json: ' + res.status + ' ' + (await res.text()))
    draw(await res.json())
    document.getElementById('error').textContent = ''
  } catch (err) {
    document.getElementById('error').textContent = String(err)
  } finally {
    setTimeout(refresh, 2000)
  }
}
refresh()
</script>
</body>
</html>
`
