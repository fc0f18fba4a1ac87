// A small SMTP server for the journey: it speaks enough of RFC 5321 for
// Soloist's mailer (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps
// every message, so the journey can open the links Soloist mails.

import net from 'node:net';

/** Undoes a Content-Transfer-Encoding. */
function decodeBody(headers, body) {
  const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase();
  if (encoding === 'base64') {
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  if (encoding === 'quoted-printable') {
    const unfolded = body.replace(/=\r?\n/g, '');
    const bytes = [];
    for (let at = 0; at < unfolded.length; at += 1) {
      const hex = unfolded.slice(at + 1, at + 3);
      if (unfolded[at] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        at += 2;
      } else {
        bytes.push(...Buffer.from(unfolded[at], 'utf8'));
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }
  return body;
}

/** The text of a message as its reader sees it (all text parts). */
export function messageText(data) {
  const split = data.search(/\r?\n\r?\n/);
  const headers = split < 0 ? data : data.slice(0, split);
  const body = split < 0 ? '' : data.slice(split).replace(/^\r?\n\r?\n/, '');
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(headers)?.[1];
  if (/content-type:\s*multipart\//i.test(headers) && boundary) {
    return body
      .split(`--${boundary}`)
      .slice(1)
      .filter((part) => !part.startsWith('--'))
      .map((part) => messageText(part.replace(/^\r?\n/, '')))
      .join('\n');
  }
  return decodeBody(headers, body);
}

/** Starts the server on a free loopback port. */
export async function startSmtp() {
  const messages = [];
  const server = net.createServer((socket) => {
    socket.setEncoding('utf8');
    let buffered = '';
    let recipients = [];
    let data = null;
    const reply = (line) => socket.write(`${line}\r\n`);
    reply('220 journey.test ESMTP');
    socket.on('data', (chunk) => {
      buffered += chunk;
      let end;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (data !== null) {
          if (line === '.') {
            messages.push({ to: recipients, data: data.join('\n') });
            data = null;
            reply('250 queued');
          } else {
            data.push(line.startsWith('.') ? line.slice(1) : line);
          }
          continue;
        }
        const upper = line.toUpperCase();
        if (upper.startsWith('EHLO') || upper.startsWith('HELO')) {
          reply('250-journey.test');
          reply('250 8BITMIME');
        } else if (upper.startsWith('MAIL FROM')) {
          recipients = [];
          reply('250 OK');
        } else if (upper.startsWith('RCPT TO')) {
          recipients.push(line.slice(8).replace(/^[\s:]*<?/, '').replace(/>.*$/, '').trim().toLowerCase());
          reply('250 OK');
        } else if (upper === 'DATA') {
          data = [];
          reply('354 End data with <CR><LF>.<CR><LF>');
        } else if (upper.startsWith('QUIT')) {
          reply('221 bye');
          socket.end();
        } else {
          reply('250 OK');
        }
      }
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    /** Waits for a message to `to` whose text matches `pattern`; returns its text. */
    async waitFor(to, pattern, timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = messages
          .filter((message) => message.to.includes(to.toLowerCase()))
          .map((message) => messageText(message.data))
          .find((text) => pattern.test(text));
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no mail to ${to} matching ${pattern} within ${timeoutMs} ms (received ${messages.length})`);
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
