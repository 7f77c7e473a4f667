// A stand-in support chat widget. Its toggle records the AI-training choice through the same API as
// the banner (with the subject token once signed in), and each message carries do_not_train.
(() => {
  const box = document.getElementById('chat');
  document.cookie = '_demo_chat=open;path=/;max-age=86400;samesite=lax';
  window.demoTags = Object.assign(window.demoTags || {}, {chat: Date.now()});
  const off = document.getElementById('chat-off');
  if (off) off.remove();
  const log = document.createElement('ul');
  log.className = 'chat-log';
  const form = document.createElement('form');
  form.className = 'chat-form';
  const input = document.createElement('input');
  input.placeholder = 'Ask us anything';
  input.setAttribute('aria-label', 'Message');
  const send = document.createElement('button');
  send.textContent = 'Send';
  form.append(input, send);
  const toggle = document.createElement('consent-toggle');
  toggle.setAttribute('purpose', 'train_support_chatbot');
  const say = (text, mine) => {
    const li = document.createElement('li');
    li.className = mine ? 'me' : '';
    li.textContent = text;
    if (mine) {
      const note = document.createElement('small');
      note.textContent = window.consentgate.allowed('train_support_chatbot')
        ? 'stored with do_not_train: false' : 'stored with do_not_train: true';
      li.append(note);
    }
    log.append(li);
    log.scrollTop = log.scrollHeight;
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!input.value.trim()) return;
    say(input.value, true);
    input.value = '';
    setTimeout(() => say('Thanks! A person will answer soon.', false), 300);
  });
  box.append(toggle, log, form);
  say('Hello! How can we help?', false);
  document.dispatchEvent(new CustomEvent('demo:tag', {detail: 'chat'}));
})();
