"""Rest stations (工会驿站 / 户外劳动者服务站): where outdoor workers find water, a seat, a charger
and a microwave; found nearby by location, checked in to by scanning the station's signed QR code,
and rated per visit."""
