// The officials' application's only script. Pages work without it except where a person
// signs: their Ed25519 key lives in this browser (WebCrypto, not extractable, kept in
// IndexedDB) or is read from their key file, and only signatures and the public half ever
// leave the browser. What is signed is the statement's exact bytes as the server hands
// them over (the same bytes the command line signs), after the page shows it in words.
"use strict";

(() => {
  const meta = (name) => (document.querySelector(`meta[name="${name}"]`) || {}).content || "";
  const csrf = () => meta("csrf-token");
  const user = () => meta("canvass-user");
  const ED25519 = { name: "Ed25519" };

  const toBase64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

  // --- the key, kept in this browser ---------------------------------------------------

  function openStore() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open("canvass-keys", 1);
      request.onupgradeneeded = () => request.result.createObjectStore("keys");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function keyStore(mode, action) {
    const db = await openStore();
    return new Promise((resolve, reject) => {
      const tx = db.transaction("keys", mode);
      const request = action(tx.objectStore("keys"));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  }

  const loadKey = (name) => keyStore("readonly", (s) => s.get(name));
  const saveKey = (name, key) => keyStore("readwrite", (s) => s.put(key, name));

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || `refused (${response.status})`);
    return data;
  }

  async function makeKey(status) {
    const pair = await crypto.subtle.generateKey(ED25519, false, ["sign", "verify"]);
    const publicKey = toBase64(await crypto.subtle.exportKey("raw", pair.publicKey));
    await saveKey(user(), { privateKey: pair.privateKey, publicKey });
    status.textContent = "Key made in this browser; sending the public half for approval…";
    await postJSON("/api/keys", { public_key: publicKey });
    location.reload();
  }

  function pemBody(text) {
    const match = text.match(/-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/);
    return match ? fromBase64(match[1].replace(/\s+/g, "")) : null;
  }

  async function useKeyFile(file, status) {
    const text = await file.text();
    if (text.includes("BEGIN ENCRYPTED PRIVATE KEY")) {
      throw new Error(
        "This key file is protected by a passphrase. A browser's WebCrypto cannot open a " +
          "passphrase-protected (encrypted PKCS#8) key: make a key in this browser instead, " +
          "or write a key file without a passphrase (canvass keys new, no --passphrase)."
      );
    }
    const fields = Object.fromEntries(
      text.split("\n").filter((l) => l.includes(": ")).map((l) => l.split(": ", 2))
    );
    if (!text.startsWith("canvass-key v1") || !fields.vkey || !pemBody(text)) {
      throw new Error("This is not a key file that canvass keys new wrote.");
    }
    if (fields.name !== user()) {
      throw new Error(`This key file is ${fields.name}'s; you are signed in as ${user()}.`);
    }
    const privateKey = await crypto.subtle.importKey("pkcs8", pemBody(text), ED25519, false, ["sign"]);
    // name+keyid+base64(0x01 ‖ key): the base64 may itself hold a "+".
    const vkey = fields.vkey.trim();
    const raw = fromBase64(vkey.slice(vkey.indexOf("+", vkey.indexOf("+") + 1) + 1)).slice(1);
    const publicKey = await crypto.subtle.importKey("raw", raw, ED25519, true, ["verify"]);
    const probe = new TextEncoder().encode("canvass key check");
    const signed = await crypto.subtle.sign(ED25519, privateKey, probe);
    if (!(await crypto.subtle.verify(ED25519, publicKey, signed, probe))) {
      throw new Error("The key file's private key does not match its vkey line.");
    }
    await saveKey(user(), { privateKey, publicKey: toBase64(raw) });
    status.textContent = "Your key file's key is now kept in this browser.";
    if (document.querySelector("[data-make-key]")) {
      await postJSON("/api/keys", { public_key: toBase64(raw) });
      location.reload();
    }
  }

  async function keyPanel(panel) {
    const status = panel.querySelector("[data-key-status]");
    const fail = (e) => { status.textContent = e.message; status.setAttribute("role", "alert"); };
    const make = panel.querySelector("[data-make-key]");
    if (make) make.addEventListener("click", () => makeKey(status).catch(fail));
    const file = panel.querySelector("[data-key-file]");
    file.addEventListener("change", () => file.files[0] && useKeyFile(file.files[0], status).catch(fail));
    const kept = await loadKey(user());
    status.textContent = kept
      ? `This browser holds your signing key (public key ${kept.publicKey}).`
      : "This browser does not hold your signing key.";
  }

  // --- signing a statement -----------------------------------------------------------

  function signingPanel(signable, onSigned) {
    const panel = document.getElementById("signing");
    const problem = panel.querySelector("[data-sign-problem]");
    panel.querySelector("[data-sign-words]").textContent = signable.words;
    panel.querySelector("[data-sign-json]").textContent = JSON.stringify(
      signable.document ? { document: signable.document, statement: signable.statement } : signable.statement,
      null,
      2
    );
    problem.hidden = true;
    panel.hidden = false;
    panel.focus();
    const confirm = panel.querySelector("[data-sign-confirm]");
    const cancel = panel.querySelector("[data-sign-cancel]");
    confirm.onclick = async () => {
      try {
        const kept = await loadKey(user());
        if (!kept) throw new Error("This browser does not hold your signing key: see My key.");
        const signature = await crypto.subtle.sign(ED25519, kept.privateKey, fromBase64(signable.message));
        confirm.disabled = true;
        onSigned(toBase64(signature));
      } catch (e) {
        problem.textContent = e.message;
        problem.hidden = false;
      }
    };
    cancel.onclick = () => { panel.hidden = true; };
  }

  function showProblem(message) {
    const panel = document.getElementById("signing");
    const problem = panel.querySelector("[data-sign-problem]");
    panel.hidden = false;
    panel.querySelector("[data-sign-words]").textContent = "";
    problem.textContent = message;
    problem.hidden = false;
  }

  function signedForm(form) {
    form.addEventListener("submit", async (event) => {
      if (form.elements.signature.value) return;
      event.preventDefault();
      const query = new URLSearchParams();
      for (const [key, value] of new FormData(form)) {
        if (key !== "csrf" && key !== "signature") query.append(key, value);
      }
      const response = await fetch(`${form.dataset.sign}?${query}`, { credentials: "same-origin" });
      const signable = await response.json();
      if (!response.ok) return showProblem(signable.error);
      signingPanel(signable, (signature) => {
        form.elements.signature.value = signature;
        form.submit();
      });
    });
  }

  function ascertainForm(form) {
    form.addEventListener("submit", async (event) => {
      if (form.elements.signature.value) return;
      event.preventDefault();
      try {
        const signable = await postJSON(form.dataset.ascertain, {
          contest: form.elements.contest.value,
          electors: form.elements.electors.value,
        });
        signingPanel(signable, (signature) => {
          form.elements.document.value = JSON.stringify(signable.document);
          form.elements.signature.value = signature;
          form.submit();
        });
      } catch (e) {
        showProblem(e.message);
      }
    });
  }

  // --- the meeting, live for everyone in it --------------------------------------------

  // A page that shows what the log decides learns at once that the log has grown (server-sent
  // events; without EventSource it asks every few seconds). The meeting shows the change (not
  // while the person is reviewing what to sign); a dashboard, which holds forms, says so
  // and offers to show it.
  function live(element) {
    const note = element.querySelector("[data-live-note]") || element;
    const reloads = element.dataset.liveMode !== "note";
    const seen = element.dataset.size;
    const signingOpen = () => {
      const signing = document.getElementById("signing");
      return signing && !signing.hidden;
    };
    let pending = false;
    // Once the page is being left (a form sent, a link followed), a reload would cancel that.
    let leaving = false;
    let source = null;
    window.addEventListener("beforeunload", () => {
      leaving = true;
      if (source) source.close();
    });
    const changed = (size) => {
      // The log only grows: a smaller size is a reading older than the page.
      if (leaving || Number(size) <= Number(seen)) return;
      if (reloads) {
        pending = true;
        if (signingOpen()) return;
        note.textContent = "Something changed in the meeting; showing it…";
        location.reload();
        return;
      }
      note.textContent = `Something changed since this page was shown (the log now holds ${size} entries). `;
      const link = document.createElement("a");
      link.href = location.pathname + location.search;
      link.textContent = "Show it";
      note.append(link);
    };
    setInterval(() => { if (pending && !leaving && !signingOpen()) location.reload(); }, 1000);
    if (window.EventSource) {
      source = new EventSource(`/api/live/events?since=${encodeURIComponent(seen)}`);
      source.addEventListener("log", (event) => changed(event.data));
      return;
    }
    setInterval(async () => {
      try {
        const response = await fetch("/api/live/size", { credentials: "same-origin" });
        if (response.ok) changed((await response.json()).log_size);
      } catch (e) {
        note.textContent = "Lost touch with the server; retrying.";
      }
    }, 3000);
  }

  // --- passkeys (WebAuthn): the second factor instead of a one-time code ---------------

  const fromBase64url = (text) =>
    fromBase64(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  const toBase64url = (bytes) =>
    toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const withIds = (list) => (list || []).map((c) => ({ ...c, id: fromBase64url(c.id) }));

  async function addPasskey(status) {
    const options = await postJSON("/api/passkeys/options", {});
    options.challenge = fromBase64url(options.challenge);
    options.user.id = fromBase64url(options.user.id);
    options.excludeCredentials = withIds(options.excludeCredentials);
    const made = await navigator.credentials.create({ publicKey: options });
    status.textContent = "Passkey made; sending its public key…";
    await postJSON("/api/passkeys", {
      credential: {
        id: made.id,
        rawId: toBase64url(made.rawId),
        type: made.type,
        response: {
          clientDataJSON: toBase64url(made.response.clientDataJSON),
          attestationObject: toBase64url(made.response.attestationObject),
          transports: made.response.getTransports ? made.response.getTransports() : [],
        },
        clientExtensionResults: made.getClientExtensionResults(),
        authenticatorAttachment: made.authenticatorAttachment,
      },
    });
    location.reload();
  }

  async function passkeySignIn(panel, status) {
    const csrfField = document.querySelector("input[name=csrf]");
    const token = csrfField ? csrfField.value : "";
    const options = await postJSON("/api/sign-in/passkey/options", { csrf: token });
    options.challenge = fromBase64url(options.challenge);
    options.allowCredentials = withIds(options.allowCredentials);
    const got = await navigator.credentials.get({ publicKey: options });
    status.textContent = "Checking your passkey…";
    const done = await postJSON("/api/sign-in/passkey", {
      csrf: token,
      next: panel.dataset.next || "/",
      credential: {
        id: got.id,
        rawId: toBase64url(got.rawId),
        type: got.type,
        response: {
          clientDataJSON: toBase64url(got.response.clientDataJSON),
          authenticatorData: toBase64url(got.response.authenticatorData),
          signature: toBase64url(got.response.signature),
          userHandle: got.response.userHandle ? toBase64url(got.response.userHandle) : null,
        },
        clientExtensionResults: got.getClientExtensionResults(),
        authenticatorAttachment: got.authenticatorAttachment,
      },
    });
    location.assign(done.to);
  }

  function passkeyPanel(panel, action) {
    const status = panel.querySelector("[data-passkey-status]");
    const fail = (e) => { status.textContent = e.message; status.setAttribute("role", "alert"); };
    panel.querySelector("button").addEventListener("click", () => action(panel, status).catch(fail));
  }

  // --- uploads with a progress bar -----------------------------------------------------

  function upload(form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const bar = form.querySelector("progress");
      bar.hidden = false;
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.upload.onprogress = (e) => {
        if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
      };
      request.onload = () => {
        history.replaceState(null, "", request.responseURL || form.action);
        document.open();
        document.write(request.responseText);
        document.close();
      };
      request.send(new FormData(form));
      form.querySelector("button[type=submit]").disabled = true;
    });
  }

  document.querySelectorAll("[data-key-panel]").forEach(keyPanel);
  document.querySelectorAll("form[data-sign]").forEach(signedForm);
  document.querySelectorAll("form[data-ascertain]").forEach(ascertainForm);
  document.querySelectorAll("[data-live]").forEach(live);
  document.querySelectorAll("form[data-upload]").forEach(upload);
  document.querySelectorAll("[data-passkey-add]").forEach((p) => passkeyPanel(p, (_, s) => addPasskey(s)));
  document.querySelectorAll("[data-passkey-sign-in]").forEach((p) => passkeyPanel(p, passkeySignIn));
})();
