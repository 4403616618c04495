"""One valid account of each kind, as an admin would type it (secret values easy to search for)."""
from tests.connectors.phone.twilio_server import ACCOUNT_SID

ACCOUNTS = {
    "email": {
        "settings": {"address": "soporte@tienda.example", "imap_host": "127.0.0.1", "imap_port": "993",
                     "imap_security": "ssl", "smtp_host": "127.0.0.1", "smtp_port": 587, "smtp_security": "starttls"},
        "secrets": {"imap_username": "soporte", "imap_password": "SECRET-imap-Zq81"},
    },
    "twitter": {
        "settings": {"username": "TiendaSoporte"},
        "secrets": {"consumer_key": "SECRET-ck-Aa01", "consumer_secret": "SECRET-cs-Bb02", "access_token": "SECRET-at-Cc03",
                    "access_token_secret": "SECRET-ats-Dd04"},
    },
    "facebook": {
        "settings": {"page_id": "104857600123456"},
        "secrets": {"page_access_token": "SECRET-page-Ee05", "app_secret": "SECRET-app-Ff06"},
    },
    "phone": {
        "settings": {"source": "twilio", "phone_number": "+34910000000", "account_sid": ACCOUNT_SID},
        "secrets": {"auth_token": "SECRET-twilio-Gg07"},
    },
    "webform": {"settings": {"address": "formularios@tienda.example"}, "secrets": {}},
    "api": {
        "settings": {"outbound_url": "https://crm.tienda.example/centralita"},
        "secrets": {"outbound_secret": "SECRET-out-Hh08"},
    },
}

SECRET_VALUES = [v for account in ACCOUNTS.values() for v in account["secrets"].values() if v.startswith("SECRET-")]
