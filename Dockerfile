# One image, several roles: `intake web` (default), `intake worker`, `intake scheduler`.
FROM python:3.11-slim-bookworm AS build
WORKDIR /app
RUN python -m venv /venv
COPY pyproject.toml setup.cfg README.md babel.cfg ./
COPY intake ./intake
COPY static ./static
COPY translations ./translations
# Editable install: static/ and translations/ live beside the package (fixed layout).
RUN /venv/bin/pip install --no-cache-dir -e '.[postgresql]' \
    && if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
         /venv/bin/pybabel compile -d translations; fi

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin intake \
    && mkdir -p /data/instance /data/xml_out && chown -R intake /data
COPY --from=build /venv /venv
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    INTAKE_ENV=production \
    INTAKE_INSTANCE_DIR=/data/instance \
    INTAKE_XML_OUT=/data/xml_out \
    INTAKE_BIND=0.0.0.0:8000
USER 10001
EXPOSE 8000
VOLUME ["/data"]
ENTRYPOINT ["intake"]
CMD ["web"]
