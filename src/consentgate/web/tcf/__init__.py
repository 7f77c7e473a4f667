"""IAB TCF v2.3: TC strings, the Global Vendor List the service hosts, Google's Additional Consent."""
