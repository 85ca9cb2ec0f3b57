import gc

from fastapi.testclient import TestClient

from routing.api import heap
from routing.api.app import create_app


def test_settle_freezes_what_is_alive_and_unsettle_releases_it():
    try:
        heap.settle()
        assert gc.get_freeze_count() > 0
        heap.unsettle()
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def test_the_service_freezes_its_heap_while_it_serves(make_settings, bundle):
    app = create_app(make_settings(), bundle=bundle)
    assert gc.get_freeze_count() == 0
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        assert gc.get_freeze_count() > 0  # the loaded model is out of the collector's walks
    assert gc.get_freeze_count() == 0
