from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and teams"

    def ready(self) -> None:
        from .roles import roles_ensure

        # Last app's post_migrate: every model's permissions exist by then.
        post_migrate.connect(roles_ensure, dispatch_uid="accounts.roles_ensure")
