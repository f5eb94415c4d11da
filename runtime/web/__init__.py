"""The web application: the app factory, sign-in, errors, languages, security headers, wsgi."""
