"""The localized words mail clients print around a forwarded or quoted message.

Collected from the crisp-oss/email-forward-parser fixtures (shared corpus) and the clients'
own localizations. Everything is data: the parsers in ``forwards.py`` and ``quotes.py`` only
combine it. Keys are compared after :func:`fold`, so case, ``*bold*`` markers, NBSP and
the Turkish dotted capital İ do not matter.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Casefold a label or phrase for comparison (İ -> i, NBSP -> space, no ``*``)."""
    folded = unicodedata.normalize("NFC", text.replace("\xa0", " ").replace("*", "")).casefold()
    folded = folded.replace("i\u0307", "i")
    return " ".join(folded.split())


#: Header labels of a forwarded/quoted block, per field.
HEADER_LABELS: dict[str, tuple[str, ...]] = {
    "from": (
        "From", "Von", "De", "De la", "Da", "Van", "Od", "Fra", "Från", "Lähettäjä", "Šalje",
        "Feladó", "Expeditorul", "Отправитель", "От", "Від", "Від кого", "Kimden", "Gönderen",
        "Saatja", "Mittente", "Nadawca", "送信元", "差出人", "发件人", "寄件者", "Absender",
        "Expéditeur", "Remitente", "Afzender", "Avsändare", "Odesílatel", "Odosielateľ",
    ),
    "to": (
        "To", "An", "À", "A", "Para", "Aan", "Do", "Til", "Till", "Vastaanottaja", "Prima",
        "Címzett", "Destinatarul", "Către", "Кому", "Kime", "Komu", "Pre", "Pour", "Adresat",
        "送信先", "宛先", "收件人", "Empfänger", "Destinatario", "Destinataire", "Saaja",
    ),
    "cc": (
        "Cc", "Kopie", "Kopie (CC)", "Kopio", "Kopi", "Kopia", "Másolat", "Másolatot kap", "Dw",
        "Bilgi", "Копия", "Копія", "Kópia", "Copie à", "Copia", "Cópia", "Koopia", "Kopija",
        "抄送", "副本",
    ),
    "subject": (
        "Subject", "Betreff", "Objet", "Sujet", "Asunto", "Oggetto", "Onderwerp", "Assunto", "Emne",
        "Ämne", "Temat", "Předmět", "Predmet", "Тема", "Konu", "Aihe", "Tárgy", "Subiect",
        "Subiectul", "Naslov", "件名", "主题", "主旨", "Teema",
    ),
    "date": (
        "Date", "Datum", "Fecha", "Data", "Dato", "Dátum", "Päivämäärä", "Päiväys", "Dată", "Дата",
        "Tarih", "日付", "日期", "Sent", "Gesendet", "Envoyé", "Enviado", "Enviada", "Inviato",
        "Verzonden", "Sendt", "Skickat", "Wysłano", "Odesláno", "Odoslané", "Lähetetty", "Elküldve",
        "Trimis", "Отправлено", "Відправлено", "Gönderilen", "Gönderildi", "Poslano", "Kuupäev",
        "Saadetud", "送信日時", "发送时间",
    ),
    "reply_to": (
        "Reply-To", "Reply To", "Antwort an", "Répondre à", "Responder a", "Rispondi a",
        "Antwoord aan", "Svar til", "Svara till", "Odpowiedz do", "Responder para", "Vastaus",
    ),
}

LABEL_FIELDS: dict[str, str] = {
    fold(label): field for field, labels in HEADER_LABELS.items() for label in labels
}

#: Yahoo prints its one-line header block with a few labels and no colon.
YAHOO_COLONLESS_LABELS: dict[str, tuple[str, ...]] = {"cc": ("Dw",), "subject": ("Assunto",)}

#: Word stems that make a separator line ("-- Forwarded message --", "Begin forwarded
#: message:") a forward, in every language of the corpus.
FORWARD_STEMS: tuple[str, ...] = (
    "forward", "fwd", "weiterg", "reenv", "transf", "transmis", "inoltr", "doorgest", "doorgestuurd",
    "przekaz", "przesł", "encaminh", "vidarebef", "videresen", "přeposl", "přeposíl", "preposl",
    "välitet", "edelleenl", "proslijeđ", "továbbít", "redirecț", "redirecţ", "перенаправ",
    "пересил", "пересыл", "пересла", "переадрес", "iletil", "ileti başlangıcı", "転送", "转发",
    "réexpédi", "reexpedi", "προωθ",
)

#: "On <date>, <name> wrote:" in the languages Outlook, Gmail and Apple Mail use.
WROTE_VERBS: tuple[str, ...] = (
    "wrote", "schrieb", "a écrit", "escribió", "napsal", "skrev", "kirjoitti", "írta", "scritto",
    "geschreven", "schreef", "napisał", "napisal", "escreveu", "написал", "написав", "napísal",
    "yazdı", "scrisse", "a scris", "kirjutas", "rašė", "rakstīja", "έγραψε", "写道", "寫道",
)

#: Words between the date and the name in a "wrote:" line ("... 12:46 heeft John Doe <...>").
WROTE_LEAD_WORDS: frozenset[str] = frozenset({
    "on", "am", "pm", "at", "um", "à", "a", "o", "u", "om", "op", "le", "el", "il", "em", "den",
    "dne", "dnia", "d.", "kl.", "kl", "giorno", "alle", "ore", "heeft", "időpontban",
    "používateľ", "uživatel", "użytkownik", "пользователь", "користувач", "bruker",
    "användare", "käyttäjä", "schrieb", "skrev", "wrote",
})

#: "X on behalf of Y" in Outlook From lines: X is the author.
ON_BEHALF_RE = re.compile(
    r"\s+(?:on behalf of|im auftrag von|au nom de|de la part de|en nombre de|per conto di|"
    r"namens|w imieniu|em nome de|på vegne av|på vegne af|jménem|nevében|adına|от имени)\s+.*$",
    re.IGNORECASE | re.DOTALL,
)


def label_field(label: str) -> str | None:
    """The field (``from``, ``to``, ``cc``, ``subject``, ``date``, ``reply_to``) a label names."""
    return LABEL_FIELDS.get(fold(label))


def has_forward_stem(text: str) -> bool:
    folded = fold(text)
    return any(stem in folded for stem in FORWARD_STEMS)


def has_wrote_verb(text: str) -> bool:
    folded = fold(text)
    return any(verb in folded for verb in WROTE_VERBS)


def labels_pattern(fields: tuple[str, ...] | None = None) -> str:
    """A regex alternation of the labels of ``fields`` (all when None), longest first."""
    chosen = [
        label for field, labels in HEADER_LABELS.items()
        if fields is None or field in fields for label in labels
    ]
    return "|".join(re.escape(label) for label in sorted(set(chosen), key=len, reverse=True))
