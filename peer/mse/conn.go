package mse

import (
	"crypto/rc4"
	"net"
)

// maxWriteChunk bounds the scratch buffer that encrypted writes use: one block message fits.
const maxWriteChunk = 32 << 10

// Conn is a connection after the handshake: it replays bytes the handshake read ahead and
// encrypts and decrypts the stream as negotiated. One goroutine may read while another writes
// (the ciphers of the two directions are separate); like net.Conn it allows no two concurrent
// readers nor two concurrent writers. Deadlines and Close go to the underlying connection.
type Conn struct {
	net.Conn
	method   Method
	infoHash [20]byte

	pending []byte      // raw bytes read during the handshake, not yet returned
	dec     *rc4.Cipher // nil once nothing more is to be decrypted
	decLeft int64       // bytes dec still applies to; negative means the whole stream

	enc  *rc4.Cipher // nil for plaintext writes
	wbuf []byte
}

// Method returns the method in use: RC4, Plaintext (obfuscated handshake only), or 0 for a plain
// BitTorrent connection that did not use MSE.
func (c *Conn) Method() Method { return c.method }

// InfoHash returns the torrent named by the MSE handshake (SKEY); zero for a plain connection.
// The BitTorrent handshake that follows must name the same torrent.
func (c *Conn) InfoHash() [20]byte { return c.infoHash }

// Encrypted reports whether the stream is RC4-encrypted.
func (c *Conn) Encrypted() bool { return c.method == RC4 }

// Read reads and decrypts.
func (c *Conn) Read(p []byte) (int, error) {
	var n int
	var err error
	if len(c.pending) > 0 {
		n = copy(p, c.pending)
		c.pending = c.pending[n:]
	} else {
		n, err = c.Conn.Read(p)
	}
	c.decryptIn(p[:n])
	return n, err
}

func (c *Conn) decryptIn(b []byte) {
	if c.dec == nil || len(b) == 0 {
		return
	}
	if c.decLeft < 0 {
		c.dec.XORKeyStream(b, b)
		return
	}
	k := int(min(int64(len(b)), c.decLeft))
	c.dec.XORKeyStream(b[:k], b[:k])
	c.decLeft -= int64(k)
	if c.decLeft == 0 {
		c.dec = nil
	}
}

// Write encrypts p into a scratch buffer (p itself is left untouched) and writes it.
func (c *Conn) Write(p []byte) (int, error) {
	if c.enc == nil {
		return c.Conn.Write(p)
	}
	if want := min(len(p), maxWriteChunk); len(c.wbuf) < want {
		c.wbuf = make([]byte, want) // grows to the largest write seen, at most maxWriteChunk
	}
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), len(c.wbuf))]
		c.enc.XORKeyStream(c.wbuf[:len(chunk)], chunk)
		n, err := c.Conn.Write(c.wbuf[:len(chunk)])
		written += n
		if err != nil {
			// The key stream has moved past bytes the peer never got: the stream is broken,
			// and the caller must close it, as after any write error.
			return written, err
		}
		p = p[len(chunk):]
	}
	return written, nil
}

// Plain returns the connection under c when reading and writing through c no longer changes
// anything: no RC4 either way (now or for the rest of the stream) and no bytes held back
// from the handshake. The engine then reads and writes the socket itself. Not safe for use
// concurrently with Read.
func (c *Conn) Plain() (net.Conn, bool) {
	if c.enc != nil || c.dec != nil || len(c.pending) > 0 {
		return nil, false
	}
	return c.Conn, true
}
