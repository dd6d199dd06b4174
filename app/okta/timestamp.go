package okta

import (
	"errors"
	"fmt"
	"time"
)

// errTimestamp is wrapped by every ParseTime error.
var errTimestamp = errors.New("not an RFC 3339 timestamp")

// ParseTime parses the timestamp forms Okta and exports of its events use: RFC 3339 with or
// without a fraction of 1 to 9 digits, and "Z" or a numeric offset (2020-02-14T22:18:51.843Z,
// 2021-06-25T21:27:03.49+02:00). It also takes a space for the "T" and a missing zone, read as
// UTC, because exported events carry that form (2022-03-22 14:21:53.225). The result is UTC.
func ParseTime(s string) (time.Time, error) {
	bad := func(why string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("%w: %q: %s", errTimestamp, clip(s, 40), why)
	}
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return bad("want YYYY-MM-DDThh:mm:ss")
	}
	switch s[10] {
	case 'T', 't', ' ':
	default:
		return bad("want T between date and time")
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return bad("non-digit in date or time")
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return bad("date or time out of range")
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			if i <= 9 {
				nsec = nsec*10 + int(rest[i]-'0')
			}
		}
		if i == 1 {
			return bad("empty fraction")
		}
		for d := i; d <= 9; d++ {
			nsec *= 10
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case rest == "" || rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, okh := digits(rest[1:3])
		om, okm := digits(rest[4:6])
		if !okh || !okm || oh > 23 || om > 59 {
			return bad("bad zone offset")
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return bad("want Z or ±hh:mm after the time")
	}
	// Seconds since the epoch by arithmetic: time.Date normalises every field and looks up
	// the zone, which cost more than the rest of reading an event's two members.
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec-offset)
	if unix < firstUnix || unix >= endUnix {
		return bad("year out of range once in UTC")
	}
	return time.Unix(unix, int64(nsec)).UTC(), nil
}

// firstUnix and endUnix bound the instants whose UTC year is 0000 to 9999.
var (
	firstUnix = daysSinceEpoch(0, 1, 1) * 86400
	endUnix   = daysSinceEpoch(10000, 1, 1) * 86400
)

// daysSinceEpoch is the number of days from 1970-01-01 to the date in the proleptic
// Gregorian calendar, as time.Date counts them (civil-from-days, after Howard Hinnant).
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y-- // the year starts in March, so that the leap day comes last
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	doy := (153*int64((month+9)%12)+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// digits parses a short run of ASCII digits.
func digits(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// clip shortens outside input quoted in an error, so a hostile value cannot flood a log.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
