// pyollama's chat page: conversations in localStorage, answers streamed from /api/chat (NDJSON),
// rendered as Markdown as they arrive; thinking folded; images attached as base64; a system prompt
// per conversation; a Stop button that aborts the request (the daemon frees the slot). With API
// keys on, the first 401 asks for a key, kept in this browser's localStorage.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const md = window.pyollamaMarkdown;
  const STORE = "pyollama.conversations";
  const KEY = "pyollama.apiKey";

  let conversations = load();
  let current = null;
  let pendingImages = []; // base64 strings for the next message
  let controller = null;
  current = conversations.length ? conversations[0].id : newConversation().id;

  function load() {
    try {
      const data = JSON.parse(localStorage.getItem(STORE) || "[]");
      return Array.isArray(data) ? data : [];
    } catch (e) {
      return [];
    }
  }
  function save() {
    try {
      localStorage.setItem(STORE, JSON.stringify(conversations));
    } catch (e) {
      setStatus("could not save the conversation: " + e.message);
    }
  }
  function conversation() {
    return conversations.find((c) => c.id === current);
  }
  function newConversation() {
    const c = { id: String(Date.now()) + Math.random().toString(16).slice(2, 6), title: "New chat",
      model: $("model").value || "", system: "", messages: [] };
    conversations.unshift(c);
    current = c.id;
    save();
    return c;
  }
  function setStatus(text) {
    $("status").textContent = text || "";
  }

  // --- HTTP ---------------------------------------------------------------------------------

  function headers() {
    const h = { "Content-Type": "application/json" };
    const key = localStorage.getItem(KEY);
    if (key) h.Authorization = "Bearer " + key;
    return h;
  }
  async function api(path, options, retried) {
    const response = await fetch(path, Object.assign({ headers: headers() }, options || {}));
    if (response.status === 401 && !retried) {
      const key = window.prompt("This server needs an API key:");
      if (key) {
        localStorage.setItem(KEY, key.trim());
        return api(path, options, true);
      }
    }
    return response;
  }
  async function errorText(response) {
    const text = await response.text();
    try {
      const body = JSON.parse(text);
      return typeof body.error === "string" ? body.error : (body.error && body.error.message) || text;
    } catch (e) {
      return text || response.status + " " + response.statusText;
    }
  }

  async function loadModels() {
    const select = $("model");
    try {
      const response = await api("/api/tags");
      if (!response.ok) throw new Error(await errorText(response));
      const body = await response.json();
      const names = (body.models || []).map((m) => m.name).sort();
      select.innerHTML = "";
      for (const name of names) {
        const option = document.createElement("option");
        option.value = option.textContent = name;
        select.appendChild(option);
      }
      const c = conversation();
      if (c.model && names.includes(c.model)) select.value = c.model;
      else if (names.length) c.model = names[0];
      if (!names.length) setStatus("no models yet: pyollama pull <model>");
    } catch (e) {
      setStatus("cannot list models: " + e.message);
    }
  }

  // --- rendering ----------------------------------------------------------------------------

  function renderMessage(message) {
    const div = document.createElement("div");
    div.className = "message " + message.role;
    if (message.thinking) {
      const details = document.createElement("details");
      details.className = "thinking";
      const summary = document.createElement("summary");
      summary.textContent = message.content ? "Thought" : "Thinking…";
      const body = document.createElement("div");
      body.innerHTML = md.render(message.thinking);
      details.append(summary, body);
      div.appendChild(details);
    }
    const content = document.createElement("div");
    content.className = "content";
    if (message.role === "assistant") content.innerHTML = md.render(message.content || "");
    else content.textContent = message.content || "";
    div.appendChild(content);
    for (const img of message.images || []) {
      const el = document.createElement("img");
      el.className = "thumb";
      el.alt = "attached image";
      el.src = "data:image/*;base64," + img;
      div.appendChild(el);
    }
    if (message.error) {
      const err = document.createElement("div");
      err.className = "error";
      err.textContent = message.error;
      div.appendChild(err);
    }
    if (message.stats) {
      const stats = document.createElement("div");
      stats.className = "stats";
      stats.textContent = message.stats;
      div.appendChild(stats);
    }
    return div;
  }

  function renderAll() {
    const c = conversation();
    const box = $("messages");
    box.innerHTML = "";
    for (const m of c.messages) box.appendChild(renderMessage(m));
    box.scrollTop = box.scrollHeight;
    $("system").value = c.system || "";
    if (c.model) $("model").value = c.model;
    const list = $("conversations");
    list.innerHTML = "";
    for (const conv of conversations) {
      const li = document.createElement("li");
      li.textContent = conv.title || "New chat";
      li.className = conv.id === current ? "active" : "";
      li.onclick = () => { if (!controller) { current = conv.id; renderAll(); } };
      const del = document.createElement("button");
      del.type = "button";
      del.className = "delete";
      del.title = "Delete conversation";
      del.textContent = "×";
      del.onclick = (ev) => {
        ev.stopPropagation();
        if (controller) return;
        conversations = conversations.filter((x) => x.id !== conv.id);
        if (!conversations.length) newConversation();
        if (current === conv.id) current = conversations[0].id;
        save();
        renderAll();
      };
      li.appendChild(del);
      list.appendChild(li);
    }
    renderAttachments();
  }

  function renderAttachments() {
    const box = $("attachments");
    box.innerHTML = "";
    pendingImages.forEach((img, i) => {
      const el = document.createElement("img");
      el.className = "thumb pending";
      el.alt = "image to send";
      el.title = "Click to remove";
      el.src = "data:image/*;base64," + img;
      el.onclick = () => { pendingImages.splice(i, 1); renderAttachments(); };
      box.appendChild(el);
    });
  }

  // --- sending ------------------------------------------------------------------------------

  function outgoing(c) {
    const msgs = [];
    if (c.system && c.system.trim()) msgs.push({ role: "system", content: c.system });
    for (const m of c.messages) {
      if (m.error && !m.content) continue;
      const out = { role: m.role, content: m.content || "" };
      if (m.images && m.images.length) out.images = m.images;
      msgs.push(out);
    }
    return msgs;
  }

  async function send(text) {
    const c = conversation();
    c.model = $("model").value;
    if (!c.model) { setStatus("pick a model first"); return; }
    const user = { role: "user", content: text };
    if (pendingImages.length) user.images = pendingImages;
    pendingImages = [];
    c.messages.push(user);
    if (c.title === "New chat") c.title = text.slice(0, 40) || "New chat";
    const answer = { role: "assistant", content: "", thinking: "" };
    c.messages.push(answer);
    save();
    renderAll();
    const box = $("messages");
    let node = box.lastChild;
    const redraw = () => {
      const fresh = renderMessage(answer);
      const open = node.querySelector("details") && node.querySelector("details").open;
      if (open && fresh.querySelector("details")) fresh.querySelector("details").open = true;
      box.replaceChild(fresh, node);
      node = fresh;
      box.scrollTop = box.scrollHeight;
    };

    controller = new AbortController();
    $("send").hidden = true;
    $("stop").hidden = false;
    setStatus("…");
    try {
      const response = await api("/api/chat", {
        method: "POST",
        body: JSON.stringify({ model: c.model, messages: outgoing(c).slice(0, -1), stream: true }),
        signal: controller.signal,
      });
      if (!response.ok) throw new Error(await errorText(response));
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffered = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        let nl;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          const part = JSON.parse(line);
          if (part.error) throw new Error(part.error);
          const m = part.message || {};
          answer.content += m.content || "";
          answer.thinking += m.thinking || "";
          if (part.done) {
            const secs = (part.eval_duration || 0) / 1e9;
            answer.stats = (part.eval_count || 0) + " tokens" +
              (secs > 0 ? ", " + (part.eval_count / secs).toFixed(1) + " tokens/s" : "");
          }
          redraw();
        }
      }
      setStatus("");
    } catch (e) {
      if (e.name === "AbortError") {
        answer.stats = "stopped";
        setStatus("stopped");
      } else {
        answer.error = e.message;
        setStatus("");
      }
      redraw();
    } finally {
      controller = null;
      $("send").hidden = false;
      $("stop").hidden = true;
      save();
      document.body.dataset.busy = "";
    }
  }

  // --- wiring -------------------------------------------------------------------------------

  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("prompt").value.trim();
    if (!text || controller) return;
    $("prompt").value = "";
    document.body.dataset.busy = "1";
    send(text);
  });
  $("prompt").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("stop").addEventListener("click", () => { if (controller) controller.abort(); });
  $("new-chat").addEventListener("click", () => { if (!controller) { newConversation(); renderAll(); } });
  $("model").addEventListener("change", () => { conversation().model = $("model").value; save(); });
  $("system").addEventListener("input", () => { conversation().system = $("system").value; save(); });
  $("toggle-system").addEventListener("click", () => {
    const box = $("system-box");
    box.hidden = !box.hidden;
    $("toggle-system").setAttribute("aria-expanded", String(!box.hidden));
  });
  $("images").addEventListener("change", (ev) => {
    const files = Array.from(ev.target.files || []);
    Promise.all(files.map((f) => new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",")[1] || "");
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(f);
    }))).then((images) => {
      pendingImages = pendingImages.concat(images.filter(Boolean));
      renderAttachments();
    }, (e) => setStatus("cannot read the image: " + e.message));
    ev.target.value = "";
  });

  window.pyollamaChat = { renderMessage: renderMessage, send: send };
  renderAll();
  loadModels().then(renderAll);
})();
