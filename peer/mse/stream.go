package mse

import (
	"bytes"
	"context"
	"crypto/rc4"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// bufLen holds the longest window a step must see at once: the synchronisation search (512
// bytes of padding plus a 20-byte hash) with room to spare. Reads fill what the buffer can take,
// so bytes that arrive past the handshake stay here and are handed to Conn.
const bufLen = 640

// stream is one handshake's I/O: a fixed read buffer, writes that run beside the reads, and a
// deadline for every step.
//
// Writes run in their own goroutine because MSE is not lock-step: each side sends its padding
// and then waits for the other's reply, which only comes once the padding has been read. Over
// TCP the kernel buffers hide this; over a synchronous transport such as net.Pipe a blocking
// write would deadlock both ends. At most one write is in flight, and every exit waits for it.
type stream struct {
	conn net.Conn
	step time.Duration

	mu        sync.Mutex // orders deadline changes against cancellation
	cancelled bool
	stop      func() bool

	buf  [bufLen]byte
	r, w int

	writing chan error // the write in flight, nil when none
}

func newStream(ctx context.Context, conn net.Conn, step time.Duration) *stream {
	if step <= 0 {
		step = defaultStep
	}
	s := &stream{conn: conn, step: step}
	s.stop = context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cancelled = true
		_ = conn.SetDeadline(time.Unix(1, 0))
	})
	return s
}

// begin starts a step: its reads and writes must finish within the step timeout.
func (s *stream) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancelled {
		return context.Canceled
	}
	return s.conn.SetDeadline(time.Now().Add(s.step))
}

// finish waits for the last write and clears the deadline; on failure it unblocks a pending
// write first, so no goroutine outlives the handshake.
func (s *stream) finish(ctx context.Context, err error) error {
	defer s.stop()
	if err != nil {
		_ = s.conn.SetDeadline(time.Unix(1, 0))
		_ = s.wait()
		return s.cause(ctx, err)
	}
	if err := s.wait(); err != nil {
		return s.cause(ctx, fmt.Errorf("write: %w", err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancelled {
		return s.cause(ctx, context.Canceled)
	}
	return s.conn.SetDeadline(time.Time{})
}

// cause reports a cancelled context instead of the deadline error it provoked.
func (s *stream) cause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

// send writes b in the background after the previous write; b must not change afterwards.
func (s *stream) send(b []byte) error {
	if err := s.wait(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	done := make(chan error, 1)
	s.writing = done
	go func() {
		_, err := s.conn.Write(b)
		done <- err
	}()
	return nil
}

func (s *stream) wait() error {
	if s.writing == nil {
		return nil
	}
	err := <-s.writing
	s.writing = nil
	return err
}

// fill reads until n unread bytes are buffered (n <= bufLen).
func (s *stream) fill(n int) error {
	if bufLen-s.r < n {
		s.compact()
	}
	for s.w-s.r < n {
		m, err := s.conn.Read(s.buf[s.w:])
		s.w += m
		if err != nil && s.w-s.r < n {
			if errors.Is(err, io.EOF) && s.w > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

func (s *stream) compact() {
	s.w = copy(s.buf[:], s.buf[s.r:s.w])
	s.r = 0
}

// next returns the next n bytes; the slice is valid until the next read.
func (s *stream) next(n int) ([]byte, error) {
	if err := s.fill(n); err != nil {
		return nil, err
	}
	b := s.buf[s.r : s.r+n]
	s.r += n
	return b, nil
}

// decrypt returns the next n bytes decrypted with c, in place.
func (s *stream) decrypt(c *rc4.Cipher, n int) ([]byte, error) {
	b, err := s.next(n)
	if err != nil {
		return nil, err
	}
	c.XORKeyStream(b, b)
	return b, nil
}

// discard skips n bytes of padding, keeping c in step with the sender's stream.
func (s *stream) discard(c *rc4.Cipher, n int) error {
	for n > 0 {
		k := min(n, bufLen)
		if _, err := s.decrypt(c, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// sync consumes bytes up to and including the first occurrence of pattern, which must start
// within maxSkip bytes. It reads no more than the buffer holds, so a peer that sends endless
// garbage is refused after maxSkip+len(pattern) bytes.
func (s *stream) sync(pattern []byte, maxSkip int) error {
	s.compact()
	window := maxSkip + len(pattern)
	for {
		if i := bytes.Index(s.buf[s.r:s.w], pattern); i >= 0 && i <= maxSkip {
			s.r += i + len(pattern)
			return nil
		}
		if s.w-s.r >= window {
			return fmt.Errorf("%w: no synchronisation within %d bytes", ErrProtocol, window)
		}
		m, err := s.conn.Read(s.buf[s.w:])
		s.w += m
		if err != nil && m == 0 {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
}

// rest returns a copy of the bytes read past the handshake.
func (s *stream) rest() []byte {
	if s.r == s.w {
		return nil
	}
	return bytes.Clone(s.buf[s.r:s.w])
}
