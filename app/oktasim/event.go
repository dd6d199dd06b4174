package oktasim

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// publishedLayout is the only timestamp form Okta's API writes in published.
const publishedLayout = "2006-01-02T15:04:05.000Z"

// kv is one member of an object whose key order matters (debugData, detailEntry).
type kv struct{ k, v string }

// party is an actor or a target; a nil detail is written as null.
type party struct {
	id, typ, alternateID, displayName string
	detail                            []kv
}

// place is where a client is: geography and network, as Okta's GeoIP and ASN data describe it.
type place struct {
	city, state, country, postalCode string
	lat, lon                         float64
	ipPrefix                         string // first three octets, "81.2.69."
	asNumber                         int
	asOrg, isp, domain               string
}

// agent is a browser or app, as Okta parses its User-Agent.
type agent struct {
	raw, os, browser, deviceType string
}

// clientInfo is the client side of one request.
type clientInfo struct {
	agent *agent
	place *place
	ip    string
}

// deviceInfo is the top-level device object Okta adds for registered devices (Okta Verify,
// FastPass); most events carry null.
type deviceInfo struct {
	id, name, platform, version, screenLock string
	managed                                 bool
}

// event is one System Log event before it is written; empty strings in nullable fields are
// written as null.
type event struct {
	actor          party
	client         clientInfo
	device         *deviceInfo
	authProvider   string
	credProvider   string
	credType       string
	session        string
	displayMessage string
	eventType      string
	result, reason string
	published      time.Time
	severity       string
	debug          []kv
	legacy         string
	txID           string
	uuid           string
	targets        []party
}

// appendJSON writes e as one JSON object in Okta's key order.
func (e *event) appendJSON(b []byte) []byte {
	b = append(b, `{"actor":`...)
	b = e.actor.appendJSON(b)
	b = append(b, `,"client":`...)
	b = e.client.appendJSON(b)
	b = append(b, `,"device":`...)
	b = e.device.appendJSON(b)
	b = append(b, `,"authenticationContext":{"authenticationProvider":`...)
	b = appendNullable(b, e.authProvider)
	b = append(b, `,"credentialProvider":`...)
	b = appendNullable(b, e.credProvider)
	b = append(b, `,"credentialType":`...)
	b = appendNullable(b, e.credType)
	b = append(b, `,"issuer":null,"interface":null,"authenticationStep":0,"rootSessionId":`...)
	b = appendString(b, e.session)
	b = append(b, `,"externalSessionId":`...)
	b = appendString(b, e.session)
	b = append(b, `},"displayMessage":`...)
	b = appendString(b, e.displayMessage)
	b = append(b, `,"eventType":`...)
	b = appendString(b, e.eventType)
	b = append(b, `,"outcome":{"result":`...)
	b = appendString(b, e.result)
	b = append(b, `,"reason":`...)
	b = appendNullable(b, e.reason)
	b = append(b, `},"published":"`...)
	b = e.published.UTC().AppendFormat(b, publishedLayout)
	b = append(b, `","securityContext":`...)
	b = e.client.appendSecurity(b)
	b = append(b, `,"severity":`...)
	b = appendString(b, e.severity)
	b = append(b, `,"debugContext":{"debugData":`...)
	b = appendObject(b, e.debug)
	b = append(b, `},"legacyEventType":`...)
	b = appendNullable(b, e.legacy)
	b = append(b, `,"transaction":{"type":"WEB","id":`...)
	b = appendString(b, e.txID)
	b = append(b, `,"detail":{}},"uuid":`...)
	b = appendString(b, e.uuid)
	b = append(b, `,"version":"0","request":{"ipChain":[`...)
	b = e.client.appendIPChain(b)
	b = append(b, `]},"target":`...)
	if e.targets == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range e.targets {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.targets[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (p *party) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, p.id)
	b = append(b, `,"type":`...)
	b = appendString(b, p.typ)
	b = append(b, `,"alternateId":`...)
	b = appendString(b, p.alternateID)
	b = append(b, `,"displayName":`...)
	b = appendString(b, p.displayName)
	b = append(b, `,"detailEntry":`...)
	if p.detail == nil {
		b = append(b, "null"...)
	} else {
		b = appendObject(b, p.detail)
	}
	return append(b, '}')
}

func (c *clientInfo) appendJSON(b []byte) []byte {
	b = append(b, `{"userAgent":{"rawUserAgent":`...)
	b = appendString(b, c.agent.raw)
	b = append(b, `,"os":`...)
	b = appendString(b, c.agent.os)
	b = append(b, `,"browser":`...)
	b = appendString(b, c.agent.browser)
	b = append(b, `},"zone":"null","device":`...)
	b = appendString(b, c.agent.deviceType)
	b = append(b, `,"id":null,"ipAddress":`...)
	b = appendString(b, c.ip)
	b = append(b, `,"geographicalContext":`...)
	b = c.place.appendGeo(b)
	return append(b, '}')
}

func (p *place) appendGeo(b []byte) []byte {
	b = append(b, `{"city":`...)
	b = appendString(b, p.city)
	b = append(b, `,"state":`...)
	b = appendString(b, p.state)
	b = append(b, `,"country":`...)
	b = appendString(b, p.country)
	b = append(b, `,"postalCode":`...)
	b = appendString(b, p.postalCode)
	b = append(b, `,"geolocation":{"lat":`...)
	b = strconv.AppendFloat(b, p.lat, 'f', -1, 64)
	b = append(b, `,"lon":`...)
	b = strconv.AppendFloat(b, p.lon, 'f', -1, 64)
	return append(b, "}}"...)
}

func (c *clientInfo) appendSecurity(b []byte) []byte {
	p := c.place
	b = append(b, `{"asNumber":`...)
	b = strconv.AppendInt(b, int64(p.asNumber), 10)
	b = append(b, `,"asOrg":`...)
	b = appendString(b, p.asOrg)
	b = append(b, `,"isp":`...)
	b = appendString(b, p.isp)
	b = append(b, `,"domain":`...)
	b = appendString(b, p.domain)
	return append(b, `,"isProxy":false}`...)
}

func (c *clientInfo) appendIPChain(b []byte) []byte {
	b = append(b, `{"ip":`...)
	b = appendString(b, c.ip)
	b = append(b, `,"geographicalContext":`...)
	b = c.place.appendGeo(b)
	return append(b, `,"version":"V4","source":null}`...)
}

func (d *deviceInfo) appendJSON(b []byte) []byte {
	if d == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"id":`...)
	b = appendString(b, d.id)
	b = append(b, `,"name":`...)
	b = appendString(b, d.name)
	b = append(b, `,"os_platform":`...)
	b = appendString(b, d.platform)
	b = append(b, `,"os_version":`...)
	b = appendString(b, d.version)
	b = append(b, `,"managed":`...)
	b = strconv.AppendBool(b, d.managed)
	b = append(b, `,"registered":true,"device_integrator":null,"disk_encryption_type":"ALL_INTERNAL_VOLUMES","screen_lock_type":`...)
	b = appendString(b, d.screenLock)
	return append(b, `,"jailbreak":null,"secure_hardware_present":true}`...)
}

// appendObject writes members in the given order; Okta's debugData values are all strings.
func appendObject(b []byte, m []kv) []byte {
	b = append(b, '{')
	for i, e := range m {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, e.k)
		b = append(b, ':')
		b = appendString(b, e.v)
	}
	return append(b, '}')
}

func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendString writes s as a JSON string, escaping what JSON requires (and nothing for HTML,
// as Okta does not: "at&t" stays as is).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		// Copy the run of bytes that need no escaping in one append.
		j := i
		for j < len(s) && s[j] >= 0x20 && s[j] < utf8.RuneSelf && s[j] != '"' && s[j] != '\\' {
			j++
		}
		b = append(b, s[i:j]...)
		if i = j; i == len(s) {
			break
		}
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
		}
	}
	return append(b, '"')
}
