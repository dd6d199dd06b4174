// Reads and writes the Dashboard Studio view files (default/data/ui/views/*.xml): the JSON
// definition sits in <definition><![CDATA[...]]></definition>.
import fs from 'node:fs';

export function readView(file) {
    const xml = fs.readFileSync(file, 'utf8');
    const m = xml.match(/<definition><!\[CDATA\[([\s\S]*?)\]\]><\/definition>/);
    if (!m) {
        throw new Error(`${file}: no <definition><![CDATA[...]]></definition>`);
    }
    const label = (xml.match(/<label>([^<]*)<\/label>/) || [])[1];
    return { xml, label, definition: JSON.parse(m[1]) };
}
