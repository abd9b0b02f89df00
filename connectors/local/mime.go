package local

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/lastmile/lastmile/liquid"
	"github.com/lastmile/lastmile/sandbox"
)

// fill substitutes tokens for one recipient; escape says whether values go
// into HTML.
func fill(s string, c sandbox.Contact, unsubscribe string, escape bool) string {
	return liquid.Render(s, c, unsubscribe, escape)
}

func recipientKey(addr string) string {
	sum := sha256.Sum256([]byte(addr))
	return hex.EncodeToString(sum[:6])
}

// message renders one recipient's MIME message: multipart/alternative with
// the plain-text and HTML parts, quoted-printable. test, when not empty,
// marks a test send: an X-Lastmile-Test header with it, and a Message-ID
// of its own, so that a mailbox that got the proof does not take the real
// send for a copy of it.
func message(e *sandbox.Email, artifactID string, c sandbox.Contact, date time.Time, domain, oneClick, test string) []byte {
	addr := c.Email()
	unsub := fmt.Sprintf("mailto:unsubscribe@%s?subject=unsubscribe%%20%s%%20%s", domain, artifactID, recipientKey(addr))
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	// A fixed boundary per message keeps files reproducible across retries.
	mw.SetBoundary("lastmile-" + artifactID + "-" + recipientKey(addr))
	var head bytes.Buffer
	write := func(k, v string) { fmt.Fprintf(&head, "%s: %s\r\n", k, v) }
	write("From", formatAddress(e.FromName, e.FromEmail))
	write("To", formatAddress(strings.TrimSpace(c["firstname"]+" "+c["lastname"]), addr))
	if e.ReplyTo != "" {
		write("Reply-To", e.ReplyTo)
	}
	write("Subject", mime.QEncoding.Encode("utf-8", fill(e.Subject, c, unsub, false)))
	write("Date", date.Format(time.RFC1123Z))
	if test != "" {
		write("X-Lastmile-Test", test)
		write("Message-ID", fmt.Sprintf("<%s.test.%d.%s@%s>", artifactID, date.UnixNano(), recipientKey(addr), domain))
	} else {
		write("Message-ID", fmt.Sprintf("<%s.%s@%s>", artifactID, recipientKey(addr), domain))
	}
	if oneClick != "" {
		// RFC 8058: the mailbox provider's unsubscribe button posts here.
		write("List-Unsubscribe", "<"+oneClick+">, <"+unsub+">")
		write("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		unsub = oneClick
	} else {
		write("List-Unsubscribe", "<"+unsub+">")
	}
	write("MIME-Version", "1.0")
	write("Content-Type", "multipart/alternative; boundary="+mw.Boundary())
	write("X-Lastmile-Artifact", artifactID)
	head.WriteString("\r\n")
	part := func(ctype, body string) {
		w, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ctype + "; charset=utf-8"}, "Content-Transfer-Encoding": {"quoted-printable"}})
		qp := quotedprintable.NewWriter(w)
		qp.Write([]byte(body))
		qp.Close()
	}
	part("text/plain", fill(e.Text, c, unsub, false))
	part("text/html", fill(e.HTML, c, unsub, true))
	mw.Close()
	return append(head.Bytes(), buf.Bytes()...)
}

func formatAddress(name, addr string) string {
	return (&mail.Address{Name: name, Address: addr}).String()
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}
