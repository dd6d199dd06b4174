package session

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// errTimestamp is wrapped by every timestamp parse error.
var errTimestamp = errors.New("not a timestamp")

// parsePublished parses Okta's published field in the forms real exports use:
// 2020-02-14T22:18:51.843Z, 2021-06-25T21:27:03.49Z, 2022-03-22 14:21:53.225,
// 2020-11-25 21:27:03.496000000 and RFC 3339 offsets (+01:00). A time without a zone is UTC.
// It returns milliseconds since the epoch, truncating finer digits.
func parsePublished(s string) (int64, error) {
	bad := func() (int64, error) { return 0, fmt.Errorf("published %q: %w", truncate(s), errTimestamp) }
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return bad()
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day, hour, minute, sec := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 60 {
		return bad()
	}
	rest := s[19:]
	ms := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			if i <= 3 {
				ms = ms*10 + int(rest[i]-'0')
			}
			i++
		}
		if i == 1 {
			return bad()
		}
		for d := i; d <= 3; d++ {
			ms *= 10
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case rest == "" || rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, err1 := strconv.Atoi(rest[1:3])
		m, err2 := strconv.Atoi(rest[4:6])
		if err1 != nil || err2 != nil || h > 23 || m > 59 {
			return bad()
		}
		offset = h*3600 + m*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return bad()
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	return t.Unix()*1000 - int64(offset)*1000 + int64(ms), nil
}

// parseEpoch parses Splunk's _time: epoch seconds with an optional fraction.
func parseEpoch(b []byte) (int64, error) {
	// Every row has one, and Splunk writes the seconds of 2001 to 2286 as ten digits: the
	// first eight are read at once (parseEpoch went from 240 to 82 instructions a row).
	if len(b) >= 11 && b[10] == '.' && digit(b[8]) && digit(b[9]) {
		if hi, ok := eightDigits(binary.LittleEndian.Uint64(b)); ok {
			sec := int64(hi)*100 + int64(b[8]-'0')*10 + int64(b[9]-'0')
			if len(b) == 14 && digit(b[11]) && digit(b[12]) && digit(b[13]) {
				return sec*1000 + int64(b[11]-'0')*100 + int64(b[12]-'0')*10 + int64(b[13]-'0'), nil
			}
			return epochWithFraction(view(b), sec, view(b[11:]))
		}
	}
	// Otherwise the common form, up to 13 digits (no sign) and an optional fraction, is read
	// here in one pass; anything else goes to parseEpochSlow, whose answer it matches.
	var sec int64
	i := 0
	for ; i < len(b) && i < 13; i++ {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		sec = sec*10 + int64(c)
	}
	s := view(b)
	if i == 0 || sec > 1<<40 || (i < len(s) && s[i] != '.') {
		return parseEpochSlow(s)
	}
	frac := ""
	if i < len(s) {
		frac = s[i+1:]
	}
	return epochWithFraction(s, sec, frac)
}

// digit reports whether c is a decimal digit.
func digit(c byte) bool { return c-'0' <= 9 }

// eightDigits reads the eight bytes of x, first byte lowest, as a decimal number; false when
// one is not a digit. It works on them as one word (SWAR), as simdjson parses numbers.
func eightDigits(x uint64) (uint64, bool) {
	// A digit's high nibble is 3, and stays 3 when 6 is added to it.
	if (x&0xf0f0f0f0f0f0f0f0)|((x+0x0606060606060606)&0xf0f0f0f0f0f0f0f0)>>4 != 0x3333333333333333 {
		return 0, false
	}
	// The first byte is the most significant digit: combine pairs, then fours, then eights.
	x = (x & 0x0f0f0f0f0f0f0f0f) * (10<<8 + 1) >> 8
	x = (x & 0x00ff00ff00ff00ff) * (100<<16 + 1) >> 16
	return (x & 0x0000ffff0000ffff) * (10000<<32 + 1) >> 32, true
}

// parseEpochSlow is parseEpoch for any input, through strconv.
func parseEpochSlow(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec < 0 || sec > 1<<40 {
		return 0, fmt.Errorf("_time %q: %w", truncate(s), errTimestamp)
	}
	return epochWithFraction(s, sec, frac)
}

// epochWithFraction adds the milliseconds of frac, the digits after the point of _time s, to
// sec seconds.
func epochWithFraction(s string, sec int64, frac string) (int64, error) {
	ms := int64(0)
	for i := 0; i < 3; i++ {
		ms *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("_time %q: %w", truncate(s), errTimestamp)
			}
			ms += int64(c - '0')
		}
	}
	return sec*1000 + ms, nil
}

// formatEpoch writes milliseconds as epoch seconds with three decimals, the form Splunk reads
// for _time.
func formatEpoch(ms int64) string {
	var b [24]byte
	return string(appendEpoch(b[:0], ms))
}

// appendEpoch appends formatEpoch's form of ms to b.
func appendEpoch(b []byte, ms int64) []byte {
	if ms >= 0 {
		// Every row has three: digits two at a time from the end, without strconv.
		var d [24]byte
		i := len(d) - 4
		f := ms % 1000
		d[i], d[i+1], d[i+2], d[i+3] = '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10)
		i = putDigits(d[:i], uint64(ms/1000))
		return append(b, d[i:]...)
	}
	if ms < 0 {
		b = append(b, '-')
		ms = -ms
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	f := ms % 1000
	return append(b, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

// putDigits writes u in decimal at the end of b, two digits at a time, and returns the index
// of its first digit. b must have room (20 bytes do for any u).
func putDigits(b []byte, u uint64) int {
	i := len(b)
	for u >= 100 {
		k := u % 100 * 2
		u /= 100
		i -= 2
		b[i], b[i+1] = digitPairs[k], digitPairs[k+1]
	}
	if u >= 10 {
		i -= 2
		b[i], b[i+1] = digitPairs[u*2], digitPairs[u*2+1]
	} else {
		i--
		b[i] = byte('0' + u)
	}
	return i
}

// digitPairs holds the two digits of 0 to 99, at twice the number.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// truncate shortens outside input quoted in an error message.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
