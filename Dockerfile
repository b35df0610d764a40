# One image, several roles: `intake web` (default), `intake worker`, `intake scheduler`.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /tools && /tools/bin/pip install --no-cache-dir "babel>=2.16" "build>=1.2"
COPY pyproject.toml setup.cfg README.md babel.cfg ./
COPY intake ./intake
COPY static ./static
COPY translations ./translations
# The catalogs are compiled here (never committed), then the wheel takes them with static/
# and the templates inside the package: the image holds an installed wheel, not a checkout.
RUN if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
      /tools/bin/pybabel compile -d translations; fi \
    && /tools/bin/python -m build --wheel --outdir /wheels . \
    && python -m venv /venv \
    && /venv/bin/pip install --no-cache-dir "$(ls /wheels/*.whl)[postgresql]"

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin intake \
    && mkdir -p /data/instance /data/xml_out && chown -R intake /data
COPY --from=build /venv /venv
WORKDIR /data
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
