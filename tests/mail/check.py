"""Parses one message the way a mail client does (Python's `email` with
`policy.default`) and prints what the test checks, as JSON: the parser's
defects, the headers that matter, the parts, and the links of each part."""

import json
import re
import sys
from email import policy
from email.parser import BytesParser
from html.parser import HTMLParser


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []
        self.buttons = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            attributes = dict(attrs)
            self.links.append(attributes.get("href"))
            if "button" in (attributes.get("class") or "").split():
                self.buttons.append(attributes.get("href"))

    def handle_data(self, data):
        self.text.append(data)


def main(path):
    with open(path, "rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    defects = [repr(defect) for defect in message.defects]
    parts = []
    text_links, html_links, buttons, html_text = [], [], [], ""
    for part in message.walk():
        defects.extend(repr(defect) for defect in part.defects)
        if part.is_multipart():
            continue
        content = part.get_content()
        parts.append(part.get_content_type())
        if part.get_content_type() == "text/plain":
            text_links.extend(re.findall(r"https?://[^\s]+?(?=[.,;:)!?]?(?:\s|$))", content))
        elif part.get_content_type() == "text/html":
            parser = Links()
            parser.feed(content)
            html_links.extend(parser.links)
            buttons.extend(parser.buttons)
            html_text += " ".join(parser.text)
    print(json.dumps({
        "subject": str(message["subject"]),
        "to": str(message["to"]),
        "message_id": str(message["message-id"] or ""),
        "date": str(message["date"] or ""),
        "mime_version": str(message["mime-version"] or ""),
        "content_type": message.get_content_type(),
        "parts": parts,
        "defects": defects,
        "text_links": text_links,
        "html_links": html_links,
        "buttons": buttons,
        "html_text": html_text,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
