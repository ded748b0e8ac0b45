"""Sign-in: mini-program login and tokens, the sign-up hook, phone binding and logging out (web and API)."""
