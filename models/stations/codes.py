"""The code printed on a station's QR code: a payload signed with the server's Ed25519 key (the
member card's), naming the station. It does not expire (it is printed and hung on a wall); it
cannot be forged or moved to another station without the private key."""

from __future__ import annotations

from models.errors import Forbidden, Invalid
from server.crypto import CardSigner

KIND = "station"  # a member card's payload has no kind, so it is no station's code


def station_code(signer: CardSigner, station_id: int) -> str:
    return signer.sign({"v": 1, "t": KIND, "sid": station_id})


def check_code(signer: CardSigner, code: str, station_id: int) -> None:
    """Passes for a genuine code of this station; `Invalid` for anything forged or not a station
    code, `Forbidden` for another station's code."""
    claims = signer.verify(code.strip())
    if claims is None or claims.get("v") != 1 or claims.get("t") != KIND or not isinstance(claims.get("sid"), int):
        raise Invalid("station.code_invalid", "驿站二维码无效，请扫描驿站张贴的二维码", {"field": "code"})
    if claims["sid"] != station_id:
        raise Forbidden("station.code_other_station", "该二维码属于另一个驿站，请扫描本驿站的二维码")
