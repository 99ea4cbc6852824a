# syntax=docker/dockerfile:1
# Multi-stage build of ToEdit Streams. CPU by default; `--build-arg MAVEN_PROFILES=cuda` builds the
# CUDA 12.4 variant (libtorch 2.5.1 cu124 from Maven Central; needs the NVIDIA container toolkit).
FROM maven:3.9-eclipse-temurin-17 AS build
ARG MAVEN_PROFILES=""
WORKDIR /src
COPY pom.xml .
COPY schemas schemas
RUN mvn -B -q ${MAVEN_PROFILES:+-P$MAVEN_PROFILES} dependency:go-offline -DexcludeReactor=true || true
COPY src src
RUN mvn -B -q ${MAVEN_PROFILES:+-P$MAVEN_PROFILES} -DskipTests package

FROM eclipse-temurin:17-jre
RUN groupadd --system toedit && useradd --system --gid toedit --home-dir /var/lib/toedit --create-home toedit
WORKDIR /opt/toedit
COPY --from=build /src/target/toedit-streams.jar /opt/toedit/toedit-streams.jar
COPY --from=build /src/target/lib /opt/toedit/lib
ENV DJL_CACHE_DIR=/var/lib/toedit/djl-cache \
    JDK_JAVA_OPTIONS="--add-modules=jdk.incubator.foreign,jdk.incubator.vector -XX:CompileCommand=quiet -XX:CompileCommand=dontinline,io.toedit.model.SimdAttention::scores* -XX:CompileCommand=dontinline,io.toedit.model.SimdAttention::expSum -XX:CompileCommand=dontinline,io.toedit.model.SimdAttention::weighted* -Dai.djl.offline=true -Dai.djl.default_engine=PyTorch"
USER toedit
VOLUME ["/var/lib/toedit"]
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/opt/toedit/toedit-streams.jar"]
CMD ["run", "--help"]
