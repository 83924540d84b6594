"""Plugin API for learning forms and certificate templates (built-ins here, third-party ones through
the ``ce_platform.plugins`` entry-point group). Introduced by the declarations issue; until then the
learning-form codes and names live in ``app.views.choices.LEARNING_FORMS``."""
