/*
 * Canvass: the results page checks itself, in the reader's browser.
 *
 * What it checks, with WebCrypto (Ed25519, SHA-256) and nothing else:
 *   1. the log's latest checkpoint (C2SP tlog-checkpoint, a C2SP signed-note) carries a
 *      valid signature by the log key the page names, and each named witness's
 *      cosignature (C2SP tlog-cosignature, cosignature/v1);
 *   2. the log entry that records this publication is in that log: its inclusion proof
 *      (RFC 9162 §2.1.3), computed from the published tiles (C2SP tlog-tiles), leads to
 *      the checkpoint's root;
 *   3. the publication that entry names lists this page, and the files behind it, with
 *      exactly the SHA-256 of the bytes the server sends now;
 *   4. the log the results were rendered from is the start of the signed log
 *      (consistency proof, RFC 9162 §2.1.4), and so is the checkpoint this browser saw
 *      last (kept in localStorage).
 * What it cannot check — that the counts are right — takes `canvass verify`, which
 * recounts every ballot table. The page says so.
 *
 * The same functions as canvass/log/ (note.py, merkle.py, tiles.py), tested against
 * them and against the RFC 6962 known answers. Plain script, no module, no dependency:
 * the site works from any static server or a USB stick.
 */
(function () {
  "use strict";

  const HASH = 32;
  const TILE_HEIGHT = 8;
  const TILE_WIDTH = 256;
  const ED25519 = 0x01;
  const COSIGNATURE_V1 = 0x04;
  const SIG_PREFIX = "\u2014 ";
  const STORE_KEY = "canvass:checkpoint:";
  const utf8 = new TextEncoder();

  class CheckError extends Error {}

  // --- Bytes ---------------------------------------------------------------------------

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  function equal(a, b) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function fromHex(text) {
    if (!/^([0-9a-f]{2})*$/.test(text)) throw new CheckError(`${text} is not hexadecimal`);
    return Uint8Array.from(text.match(/../g) || [], (h) => parseInt(h, 16));
  }

  function b64encode(bytes) {
    return btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
  }

  // Base64 with exactly one spelling, as canvass/log/note.py reads it: no two different
  // notes carry the same signature.
  function b64decode(text) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) {
      throw new CheckError(`${JSON.stringify(text)} is not base64`);
    }
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    if (b64encode(bytes) !== text) throw new CheckError(`${JSON.stringify(text)} is not base64`);
    return bytes;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  // --- Signed notes, checkpoints, cosignatures (C2SP) -----------------------------------

  async function keyId(name, type, publicKey) {
    const digest = await sha256(concat(utf8.encode(name + "\n"), Uint8Array.of(type), publicKey));
    return digest.slice(0, 4);
  }

  // A verifier key `name+hexid+base64(type ‖ key)`; `as` gives the type the key is used
  // with (a witness registers an Ed25519 key and cosigns with type 0x04).
  async function decodeVerifierKey(text, as) {
    const parts = text.trim().split("+");
    if (parts.length < 3) throw new CheckError(`verifier key ${text}: expected name+keyid+base64key`);
    const [name, hexId] = parts;
    const raw = b64decode(parts.slice(2).join("+"));
    if (!/^[^\s+]+$/.test(name)) throw new CheckError(`key name ${JSON.stringify(name)} is not usable`);
    if (raw.length !== 33 || (raw[0] !== ED25519 && raw[0] !== COSIGNATURE_V1)) {
      throw new CheckError(`verifier key for ${name}: expected an Ed25519 key`);
    }
    const publicKey = raw.slice(1);
    if (hex(await keyId(name, raw[0], publicKey)) !== hexId.toLowerCase()) {
      throw new CheckError(`verifier key for ${name}: key ID ${hexId} does not match the key`);
    }
    const type = as === undefined ? raw[0] : as;
    return { name, type, publicKey, id: await keyId(name, type, publicKey) };
  }

  function parseNote(raw, where) {
    const split = raw.lastIndexOf("\n\n");
    if (split < 0) throw new CheckError(`${where}: no blank line separates the text from signatures`);
    const text = raw.slice(0, split + 1);
    const block = raw.slice(split + 2);
    if (!block) throw new CheckError(`${where}: the note carries no signature`);
    if (!block.endsWith("\n")) {
      throw new CheckError(`${where}: the last signature line does not end in a newline`);
    }
    const signatures = block.slice(0, -1).split("\n").map((line, i) => {
      if (!line.startsWith(SIG_PREFIX)) {
        throw new CheckError(`${where}: signature line ${i + 1} does not start with '\u2014 '`);
      }
      const body = line.slice(SIG_PREFIX.length);
      const space = body.lastIndexOf(" ");
      const name = body.slice(0, Math.max(space, 0));
      let blob;
      try {
        blob = b64decode(body.slice(space + 1));
      } catch (e) {
        throw new CheckError(`${where}: signature line ${i + 1} is not base64`);
      }
      if (blob.length < 5 || !name) throw new CheckError(`${where}: signature line ${i + 1} is too short`);
      return { name, keyId: blob.slice(0, 4), payload: blob.slice(4) };
    });
    return { text, signatures };
  }

  async function ed25519Verify(publicKey, signature, message) {
    let key;
    try {
      key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      if (e && e.name === "NotSupportedError") {
        throw new CheckError("this browser cannot check Ed25519 signatures (WebCrypto)");
      }
      return false; // a point that is not on the curve verifies nothing
    }
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  function signatureBy(note, key) {
    return note.signatures.find((s) => s.name === key.name && equal(s.keyId, key.id));
  }

  async function verifyNote(note, key, where) {
    const sig = signatureBy(note, key);
    if (!sig) throw new CheckError(`${where}: no signature by ${key.name} (${hex(key.id)})`);
    if (sig.payload.length !== 64 || !(await ed25519Verify(key.publicKey, sig.payload, utf8.encode(note.text)))) {
      throw new CheckError(`${where}: the signature by ${key.name} does not verify`);
    }
  }

  function parseCheckpoint(text, where) {
    const lines = text.split("\n");
    if (lines.length < 4 || lines[lines.length - 1] !== "") {
      throw new CheckError(`${where}: expected origin, size and root lines`);
    }
    const [origin, size, root, ...extensions] = lines.slice(0, -1);
    if (!origin) throw new CheckError(`${where}: the origin line is empty`);
    if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
      throw new CheckError(`${where}: size ${JSON.stringify(size)} is not a decimal number`);
    }
    let rootBytes;
    try {
      rootBytes = b64decode(root);
    } catch (e) {
      throw new CheckError(`${where}: root ${JSON.stringify(root)} is not base64`);
    }
    if (rootBytes.length !== HASH) throw new CheckError(`${where}: root has ${rootBytes.length} bytes; expected 32`);
    if (extensions.some((e) => !e)) throw new CheckError(`${where}: an extension line is empty`);
    return { origin, size: Number(size), root: rootBytes, extensions };
  }

  async function openCheckpoint(raw, key, where) {
    const note = parseNote(raw, where);
    await verifyNote(note, key, where);
    const checkpoint = parseCheckpoint(note.text, where);
    if (checkpoint.origin !== key.name) {
      throw new CheckError(`${where}: origin ${JSON.stringify(checkpoint.origin)} is not the log key's ${JSON.stringify(key.name)}`);
    }
    return { note, checkpoint };
  }

  // C2SP tlog-cosignature: the witness signs "cosignature/v1\ntime <t>\n" ‖ checkpoint;
  // its signature line carries key ID ‖ u64 big-endian t ‖ signature. Returns t.
  async function verifyCosignature(note, witness, where) {
    const sig = signatureBy(note, witness);
    if (!sig) throw new CheckError(`${where}: no cosignature by ${witness.name}`);
    if (sig.payload.length !== 72) throw new CheckError(`${where}: the cosignature by ${witness.name} is malformed`);
    const time = new DataView(sig.payload.buffer, sig.payload.byteOffset, 8).getBigUint64(0);
    const message = utf8.encode(`cosignature/v1\ntime ${time}\n${note.text}`);
    if (!(await ed25519Verify(witness.publicKey, sig.payload.slice(8), message))) {
      throw new CheckError(`${where}: the cosignature by ${witness.name} does not verify`);
    }
    return Number(time);
  }

  // --- The Merkle tree (RFC 9162 §2.1), in plain arithmetic: tree sizes may pass 2**31,
  // where JavaScript's bit operators would wrap.

  const EMPTY_ROOT = fromHex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const odd = (n) => n % 2 === 1;
  const half = (n) => Math.floor(n / 2);
  const pow2 = (k) => 2 ** k;

  function bitLength(n) {
    let bits = 0;
    for (; n > 0; n = half(n)) bits++;
    return bits;
  }

  function trailingZeros(n) {
    let zeros = 0;
    for (; n > 0 && !odd(n); n = half(n)) zeros++;
    return zeros;
  }

  const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));
  const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

  function checkHashes(what, hashes) {
    for (const h of hashes) {
      if (h.length !== HASH) throw new CheckError(`${what} has a hash of ${h.length} bytes; every hash is 32 bytes`);
    }
  }

  // draft-ietf-plants-merkle-tree-certs §4.1.
  function isValidSubtree(start, end) {
    if (start < 0 || start > end) return false;
    const size = end - start;
    const ceiling = size <= 1 ? 1 : pow2(bitLength(size - 1));
    return start % ceiling === 0;
  }

  // The complete subtrees [level, index] that make up [start, end), left to right.
  function rangeNodes(start, end) {
    const nodes = [];
    while (start < end) {
      let level = start ? trailingZeros(start) : bitLength(end - start) - 1;
      while (start + pow2(level) > end) level--;
      nodes.push([level, start / pow2(level)]);
      start += pow2(level);
    }
    return nodes;
  }

  async function foldRange(hashes) {
    if (!hashes.length) return EMPTY_ROOT;
    let acc = hashes[hashes.length - 1];
    for (let i = hashes.length - 2; i >= 0; i--) acc = await nodeHash(hashes[i], acc);
    return acc;
  }

  // SUBTREE_SUBPROOF (draft-ietf-plants-merkle-tree-certs §4.4.1) as leaf ranges: with
  // start 0 it is RFC 9162 §2.1.4.1 SUBPROOF, with end = start + 1 §2.1.3.1 PATH.
  function subproofRanges(start, end, n, known, offset, out) {
    if (start === 0 && end === n) {
      if (!known) out.push([offset, offset + n]);
      return;
    }
    const k = pow2(bitLength(n - 1) - 1);
    if (end <= k) {
      subproofRanges(start, end, k, known, offset, out);
      out.push([offset + k, offset + n]);
    } else if (k <= start) {
      subproofRanges(start - k, end - k, n - k, known, offset + k, out);
      out.push([offset, offset + k]);
    } else {
      subproofRanges(0, end - k, n - k, false, offset + k, out);
      out.push([offset, offset + k]);
    }
  }

  function subtreeProofRanges(start, end, size) {
    if (!isValidSubtree(start, end) || end > size) {
      throw new CheckError(`[${start}, ${end}) is not a valid subtree of a tree of size ${size}`);
    }
    const out = [];
    if (start < end) subproofRanges(start, end, size, true, 0, out);
    return out;
  }

  function inclusionProofRanges(index, size) {
    if (!(index >= 0 && index < size)) throw new CheckError(`entry ${index} is not in a log of ${size} entries`);
    return subtreeProofRanges(index, index + 1, size);
  }

  function consistencyProofRanges(size1, size2) {
    if (!(size1 > 0 && size1 <= size2)) {
      throw new CheckError(`no consistency proof from size ${size1} to size ${size2}`);
    }
    return subtreeProofRanges(0, size1, size2);
  }

  // RFC 9162 §2.1.3.2.
  async function rootFromInclusionProof(index, size, entryHash, proof) {
    if (!(index >= 0 && index < size)) throw new CheckError(`entry ${index} is not in a tree of ${size} entries`);
    checkHashes("the leaf", [entryHash]);
    checkHashes("the inclusion proof", proof);
    let fn = index;
    let sn = size - 1;
    let r = entryHash;
    for (const p of proof) {
      if (sn === 0) throw new CheckError("the inclusion proof is longer than the tree is deep");
      if (odd(fn) || fn === sn) {
        r = await nodeHash(p, r);
        while (!odd(fn) && fn) [fn, sn] = [half(fn), half(sn)];
      } else {
        r = await nodeHash(r, p);
      }
      [fn, sn] = [half(fn), half(sn)];
    }
    if (sn !== 0) throw new CheckError("the inclusion proof is shorter than the tree is deep");
    return r;
  }

  async function verifyInclusion(index, size, entryHash, proof, root) {
    checkHashes("the root", [root]);
    if (!equal(await rootFromInclusionProof(index, size, entryHash, proof), root)) {
      throw new CheckError(`the inclusion proof for entry ${index} does not lead to the root`);
    }
  }

  async function verifySubtreeInclusion(index, start, end, entryHash, proof, root) {
    if (!isValidSubtree(start, end) || !(start <= index && index < end)) {
      throw new CheckError(`entry ${index} is not in a valid subtree [${start}, ${end})`);
    }
    await verifyInclusion(index - start, end - start, entryHash, proof, root);
  }

  // draft-ietf-plants-merkle-tree-certs §4.4.3; with start 0, RFC 9162 §2.1.4.2.
  async function verifySubtreeConsistency(start, end, size, proof, subtreeRoot, root) {
    if (!isValidSubtree(start, end) || end > size) {
      throw new CheckError(`[${start}, ${end}) is not a valid subtree of a tree of size ${size}`);
    }
    if (start === end) {
      if (proof.length || !equal(subtreeRoot, EMPTY_ROOT)) {
        throw new CheckError("an empty subtree has an empty proof and the empty hash");
      }
      return;
    }
    checkHashes("the consistency proof", proof);
    let [fn, sn, tn] = [start, end - 1, size - 1];
    const shift = () => ([fn, sn, tn] = [half(fn), half(sn), half(tn)]);
    if (sn === tn) {
      while (fn !== sn) shift();
    } else {
      while (fn !== sn && odd(sn)) shift();
    }
    const rest = proof.slice();
    let fr, sr;
    if (fn === sn) {
      fr = sr = subtreeRoot;
    } else {
      if (!rest.length) throw new CheckError("the consistency proof is empty");
      fr = sr = rest.shift();
    }
    for (const c of rest) {
      if (tn === 0) throw new CheckError("the consistency proof is longer than the tree is deep");
      if (odd(sn) || sn === tn) {
        if (fn < sn) fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        while (!odd(sn) && sn > 0) shift();
      } else {
        sr = await nodeHash(sr, c);
      }
      shift();
    }
    if (tn !== 0) throw new CheckError("the consistency proof is shorter than the tree is deep");
    if (!equal(fr, subtreeRoot)) throw new CheckError("the consistency proof does not lead to the earlier root");
    if (!equal(sr, root)) throw new CheckError("the consistency proof does not lead to the later root");
  }

  async function verifyConsistency(size1, size2, proof, root1, root2) {
    if (size1 === 0) throw new CheckError("a consistency proof from the empty tree proves nothing");
    if (size1 > size2) throw new CheckError(`the log shrank from ${size1} to ${size2} entries`);
    if (size1 === size2) {
      if (proof.length) throw new CheckError("equal sizes need an empty consistency proof");
      if (!equal(root1, root2)) throw new CheckError(`two different roots for the same size ${size1}: the log forked`);
      return;
    }
    await verifySubtreeConsistency(0, size1, size2, proof, root1, root2);
  }

  // --- The log as tiles (C2SP tlog-tiles) -----------------------------------------------

  function tilePath(level, index, width) {
    const groups = [String(index % 1000).padStart(3, "0")];
    for (let n = Math.floor(index / 1000); n; n = Math.floor(n / 1000)) {
      groups.unshift("x" + String(n % 1000).padStart(3, "0"));
    }
    const suffix = width === TILE_WIDTH ? "" : `.p/${width}`;
    return `tile/${level}/${groups.join("/")}${suffix}`;
  }

  // Reads the tree of a log of `size` entries from its tiles, fetched by `read(path)`.
  // Nothing read is trusted: every hash it gives ends in a proof checked against a
  // signed root.
  class Tiles {
    constructor(read, size) {
      this.read = read;
      this.size = size;
      this.cache = new Map();
    }

    async tile(level, index, itemSize) {
      const count = level === "entries" ? this.size : Math.floor(this.size / pow2(TILE_HEIGHT * level));
      const width = Math.min(TILE_WIDTH, count - index * TILE_WIDTH);
      const path = tilePath(level, index, width);
      if (!this.cache.has(path)) {
        this.cache.set(path, this.read(path).then((data) => {
          if (itemSize && data.length !== width * itemSize) {
            throw new CheckError(`log/${path}: ${data.length} bytes; a tile of ${width} hashes has ${width * itemSize}`);
          }
          return data;
        }));
      }
      return { path, width, data: await this.cache.get(path) };
    }

    // The complete node (level, index): from the tile at level floor(level / 8), folding
    // the 2**(level % 8) hashes under it.
    async node(level, index) {
      const tileLevel = Math.floor(level / TILE_HEIGHT);
      const span = pow2(level - TILE_HEIGHT * tileLevel);
      const first = index * span;
      const { data } = await this.tile(tileLevel, Math.floor(first / TILE_WIDTH), HASH);
      const at = first % TILE_WIDTH;
      let hashes = [];
      for (let k = at; k < at + span; k++) hashes.push(data.slice(k * HASH, (k + 1) * HASH));
      while (hashes.length > 1) {
        const up = [];
        for (let k = 0; k < hashes.length; k += 2) up.push(await nodeHash(hashes[k], hashes[k + 1]));
        hashes = up;
      }
      return hashes[0];
    }

    async rangeHash(start, end) {
      const nodes = await Promise.all(rangeNodes(start, end).map(([lv, i]) => this.node(lv, i)));
      return foldRange(nodes);
    }

    proof(ranges) {
      return Promise.all(ranges.map(([lo, hi]) => this.rangeHash(lo, hi)));
    }

    inclusionProof(index) {
      return this.proof(inclusionProofRanges(index, this.size));
    }

    consistencyProof(size1) {
      return this.proof(consistencyProofRanges(size1, this.size));
    }

    // Entry `index`, from its entry bundle: each entry a big-endian u16 length and bytes.
    async entry(index) {
      const bundle = Math.floor(index / TILE_WIDTH);
      const { path, width, data } = await this.tile("entries", bundle);
      let at = 0;
      for (let k = 0; k < width; k++) {
        if (at + 2 > data.length) throw new CheckError(`log/${path}: ends after ${k} of its ${width} entries`);
        const length = data[at] * 256 + data[at + 1];
        if (at + 2 + length > data.length) throw new CheckError(`log/${path}: entry ${bundle * TILE_WIDTH + k} is cut short`);
        if (bundle * TILE_WIDTH + k === index) return data.slice(at + 2, at + 2 + length);
        at += 2 + length;
      }
      throw new CheckError(`log/${path}: holds no entry ${index}`);
    }
  }

  // --- Checking a page ------------------------------------------------------------------

  // A report: what was checked and held, what failed, and what this check cannot tell.
  class Report {
    constructor() {
      this.held = [];
      this.failed = [];
      this.unchecked = [];
      this.checkpoint = null;
    }

    get ok() {
      return this.failed.length === 0;
    }

    // Run one step; a CheckError is a named failure, anything else (a network error) too.
    async step(failure, fn) {
      try {
        const said = await fn();
        if (said) this.held.push(said);
        return true;
      } catch (e) {
        this.failed.push(`${failure}: ${e && e.message ? e.message : e}`);
        return false;
      }
    }
  }

  async function fetchBytes(url) {
    const response = await fetch(url, { cache: "no-cache" });
    if (!response.ok) throw new CheckError(`${url}: the server answered ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }

  function readConfig(doc) {
    const node = doc.getElementById("canvass-log");
    if (!node) throw new CheckError("the page does not say which log it comes from");
    return JSON.parse(node.textContent);
  }

  function entryJson(bytes, index) {
    try {
      return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (e) {
      throw new CheckError(`log entry ${index} is not JSON`);
    }
  }

  function when(seconds) {
    return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
  }

  // Check the page at `pageUrl` (bytes as the server sends them now) against the log of
  // the bundle at `base`. `options.storage` keeps the last checkpoint (localStorage);
  // `options.fetchBytes` reads a URL. Returns the report and the page's bytes.
  async function checkPage(base, pageUrl, options = {}) {
    const read = options.fetchBytes || fetchBytes;
    const storage = options.storage === undefined ? window.localStorage : options.storage;
    const report = new Report();
    let page, config;
    const fetched = await report.step("This page could not be read again", async () => {
      page = await read(pageUrl);
      config = readConfig(new DOMParser().parseFromString(new TextDecoder().decode(page), "text/html"));
    });
    if (!fetched) return { report, page };

    let operator, opened;
    const signed = await report.step("The log's checkpoint is not signed by the election's log key", async () => {
      operator = await decodeVerifierKey(config.operator);
      const raw = new TextDecoder().decode(await read(base + "log/checkpoint"));
      opened = await openCheckpoint(raw, operator, "log/checkpoint");
      report.checkpoint = opened.checkpoint;
      return `The log's latest checkpoint (${opened.checkpoint.size} entries) is signed by the election's log key ${operator.name} (key ID ${hex(operator.id)}).`;
    });
    if (!signed) return { report, page, config };
    const { note, checkpoint } = opened;
    const tiles = new Tiles((path) => read(base + "log/" + path), checkpoint.size);

    let witnessesHold = true;
    for (const w of config.witnesses || []) {
      witnessesHold = (await report.step(`Witness ${w.name} has not vouched for this log`, async () => {
        const key = await decodeVerifierKey(w.vkey, COSIGNATURE_V1);
        const time = await verifyCosignature(note, key, "log/checkpoint");
        return `Witness ${w.name} cosigned this checkpoint at ${when(time)}.`;
      })) && witnessesHold;
    }
    if (!(config.witnesses || []).length) {
      report.unchecked.push("No witness is named: nobody but the log's operator vouches that everyone is shown the same log.");
    }

    const index = config.publication;
    let publication;
    await report.step(`Log entry ${index}, the publication of these results, is not in the log`, async () => {
      if (!(index < checkpoint.size)) {
        throw new CheckError(`the signed checkpoint covers entries 0 to ${checkpoint.size - 1} only`);
      }
      const raw = await tiles.entry(index);
      await verifyInclusion(index, checkpoint.size, await leafHash(raw), await tiles.inclusionProof(index), checkpoint.root);
      const entry = entryJson(raw, index);
      const ref = entry.type === "bundle.published" && entry.artifacts && entry.artifacts[0];
      if (!ref) throw new CheckError(`log entry ${index} is a ${JSON.stringify(entry.type)}, not a publication`);
      const doc = await read(base + "artifacts/" + ref.sha256);
      if (hex(await sha256(doc)) !== ref.sha256) {
        throw new CheckError(`artifacts/${ref.sha256}: its bytes are not the publication entry ${index} names`);
      }
      publication = JSON.parse(new TextDecoder().decode(doc));
      return `Log entry ${index} records this publication, and its inclusion proof, computed from the log's tiles, leads to the checkpoint's root.`;
    });

    for (const w of (config.witnesses || []).filter((w) => Number.isSafeInteger(w.entry))) {
      await report.step(`The key of witness ${w.name} is not the one registered in the log`, async () => {
        const raw = await tiles.entry(w.entry);
        await verifyInclusion(w.entry, checkpoint.size, await leafHash(raw), await tiles.inclusionProof(w.entry), checkpoint.root);
        const e = entryJson(raw, w.entry);
        if (e.type !== "key.registered" || !e.data || e.data.role !== "witness" || e.data.vkey !== w.vkey) {
          throw new CheckError(`log entry ${w.entry} does not register the key ${w.vkey} as a witness`);
        }
        return `Witness ${w.name}'s key is the one registered at log entry ${w.entry}.`;
      });
    }

    if (publication) {
      await report.step("This page is not what the log says was published", async () => {
        const listed = publication.files || {};
        const names = [config.page, ...(config.files || [])];
        for (const name of names) {
          const bytes = name === config.page ? page : await read(base + name);
          const found = hex(await sha256(bytes));
          const want = listed[name] && listed[name].sha256;
          if (found !== want) {
            throw new CheckError(`${name}: its SHA-256 is ${found}; the publication at log entry ${index} lists ${want || "no such file"}`);
          }
        }
        return `This page${names.length > 1 ? " and " + names.slice(1).join(", ") : ""} are byte for byte the files the publication lists.`;
      });
      await report.step("These results were not rendered from this log", async () => {
        const size = publication.log_size;
        const root = fromHex(String(publication.root));
        if (size !== config.log_size || publication.root !== config.root) {
          throw new CheckError(`the publication names the log at ${size} entries, the page ${config.log_size}`);
        }
        await verifyConsistency(size, checkpoint.size, await tiles.consistencyProof(size), root, checkpoint.root);
        return `The results were computed from the log's first ${size} entries, and a consistency proof shows those to be the start of the signed log.`;
      });
    }

    const storeKey = STORE_KEY + checkpoint.origin;
    const seen = storage && JSON.parse(storage.getItem(storeKey) || "null");
    const extends_ = await report.step("The log does not extend the checkpoint this browser saw before", async () => {
      if (!seen) {
        report.unchecked.push("This browser has not seen this log before: it keeps this checkpoint, and checks next time that the log only grew.");
        return "";
      }
      const root = b64decode(seen.root);
      if (seen.size > checkpoint.size) {
        throw new CheckError(`this browser saw ${seen.size} entries on ${seen.seen}; the log now shows only ${checkpoint.size}: it was rolled back or this is a stale copy`);
      }
      const proof = seen.size === checkpoint.size ? [] : await tiles.consistencyProof(seen.size);
      await verifyConsistency(seen.size, checkpoint.size, proof, root, checkpoint.root);
      return `The log extends the checkpoint this browser saw on ${seen.seen} (${seen.size} entries): nothing in it was changed since.`;
    });
    if (storage && extends_ && witnessesHold && (!seen || seen.size < checkpoint.size)) {
      const stamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      storage.setItem(storeKey, JSON.stringify({ size: checkpoint.size, root: b64encode(checkpoint.root), seen: stamp }));
    }
    report.unchecked.push(
      "That the counts are right: only canvass verify recounts every ballot table and checks the boards' signatures, the reconciliation and the audits (see how to check).",
      `That ${operator.name} is the election's genuine log key: compare its key ID ${hex(operator.id)} with the one the election office publishes elsewhere.`
    );
    return { report, page, config };
  }

  // --- The page -------------------------------------------------------------------------

  function list(doc, heading, items, cls) {
    const out = [];
    if (!items.length) return out;
    const h = doc.createElement("h3");
    h.textContent = heading;
    const ul = doc.createElement("ul");
    ul.className = cls;
    for (const text of items) {
      const li = doc.createElement("li");
      li.textContent = text;
      ul.append(li);
    }
    return [h, ul];
  }

  function show(out, report, note) {
    const doc = out.ownerDocument;
    const status = doc.createElement("p");
    status.className = "check-status " + (report.ok ? "check-ok" : "check-failed");
    status.textContent = report.ok
      ? `Checked in your browser: this page is what the signed election log says was published${note || ""}.`
      : `Check failed: ${report.failed[0]}`;
    out.setAttribute("data-check", report.ok ? "passed" : "failed");
    out.replaceChildren(
      status,
      ...list(doc, "What failed", report.failed, "check-failed-list"),
      ...list(doc, "What was checked", report.held, "check-held-list"),
      ...list(doc, "What this check cannot tell", report.unchecked, "check-unchecked-list")
    );
  }

  function cannotCheck(out, why) {
    const p = out.ownerDocument.createElement("p");
    p.className = "check-status";
    p.textContent = `This page was not checked: ${why}. Run canvass verify on the bundle to check everything.`;
    out.setAttribute("data-check", "unchecked");
    out.replaceChildren(p);
  }

  // Put the checked page's content in place of the one shown (election night: new
  // results appear without a reload, and only once they check out).
  function replaceContent(html) {
    const fresh = new DOMParser().parseFromString(html, "text/html");
    const main = document.querySelector("main");
    const next = fresh.querySelector("main");
    if (main && next) {
      main.replaceWith(document.adoptNode(next));
      // The status (unofficial, certified, a correction under way) and the time of the
      // last update are in the header.
      const header = document.querySelector("header.site");
      const nextHeader = fresh.querySelector("header.site");
      if (header && nextHeader) header.replaceWith(document.adoptNode(nextHeader));
      document.title = fresh.title;
      document.getElementById("canvass-log").textContent = fresh.getElementById("canvass-log").textContent;
    }
  }

  async function run() {
    const section = document.getElementById("check-report");
    if (!section) return;
    let config;
    try {
      config = readConfig(document);
    } catch (e) {
      return cannotCheck(section, e.message);
    }
    if (location.protocol === "file:") {
      return cannotCheck(section, "it was opened from a file, and a browser does not let a page read the files beside it");
    }
    if (!window.crypto || !crypto.subtle) return cannotCheck(section, "this browser has no WebCrypto here");
    const base = new URL(config.bundle, location.href).href;
    const pageUrl = new URL(config.page, base).href;
    let shown = null;
    let lastCheckpoint = null;
    const once = async () => {
      const { report, page } = await checkPage(base, pageUrl);
      const text = page ? new TextDecoder().decode(page) : null;
      let note = "";
      if (report.ok && shown !== null && text !== shown) {
        replaceContent(text);
        note = ` (updated ${new Date().toLocaleTimeString()})`;
      }
      if (report.ok || shown === null) shown = text;
      // A failed check is tried again at the next tick: a bundle caught half-copied by a
      // mirror checks out a moment later.
      if (report.ok && report.checkpoint) lastCheckpoint = b64encode(report.checkpoint.root);
      show(document.getElementById("check-report"), report, note);
    };
    await once();
    const every = Number(config.refresh_seconds);
    if (every > 0) {
      setInterval(async () => {
        try {
          const raw = new TextDecoder().decode(await fetchBytes(base + "log/checkpoint"));
          const root = raw.split("\n")[2];
          if (root && root !== lastCheckpoint) await once();
        } catch (e) {
          // Offline for a moment: the next tick tries again.
        }
      }, every * 1000);
    }
  }

  window.canvassCheck = {
    CheckError, hex, fromHex, b64decode, b64encode, sha256, keyId, decodeVerifierKey,
    parseNote, verifyNote, parseCheckpoint, openCheckpoint, verifyCosignature,
    leafHash, nodeHash, rangeNodes, inclusionProofRanges, consistencyProofRanges,
    subtreeProofRanges, rootFromInclusionProof, verifyInclusion, verifySubtreeInclusion,
    verifyConsistency, verifySubtreeConsistency, tilePath, Tiles, checkPage, run,
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
