"""Keys, a complaint full of personal data, and small request helpers for the service tests."""

from __future__ import annotations

from fastapi.testclient import TestClient

INTEGRATION_KEY = "int-key-one"
INTEGRATION_KEY_2 = "int-key-two"
ADMIN_KEY = "admin-key-one"
API_KEYS = f"integration:{INTEGRATION_KEY},integration:{INTEGRATION_KEY_2},admin:{ADMIN_KEY}"
INTEGRATION = {"X-API-Key": INTEGRATION_KEY}
ADMIN = {"X-API-Key": ADMIN_KEY}

NIK = "3204055807656587"
PHONE = "081234567890"
# Words that only this test complaint contains, to look for in logs.
SECRET_WORDS = "Zubaidah Kertawinangun"
PERSONAL_TEXT = (
    f"Saya {SECRET_WORDS} NIK {NIK} hp {PHONE}, listrik di rumah padam terus sejak kemarin, "
    "token PLN sudah diisi tapi meteran tetap mati"
)


def predict(client: TestClient, text: str = PERSONAL_TEXT, **extra) -> dict:
    response = client.post("/v1/predict", json={"text": text, **extra}, headers=INTEGRATION)
    assert response.status_code == 200, response.text
    return response.json()
