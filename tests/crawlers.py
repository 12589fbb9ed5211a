"""A verified search crawler for the channels' leak tests: installed with
``monkeypatch.setattr(context, "crawler_verifier", TrustEveryCrawler)``, every crawler that
says so is taken as verified, so the article page gives it every word (the test checks that
first) and each channel must still keep the paywalled part from it."""


class TrustEveryCrawler:
    def is_verified(self, *, user_agent, ip):
        return True
